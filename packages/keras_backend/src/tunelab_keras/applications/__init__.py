"""Ready-made hypermodels for images (KerasTuner's ``kt.applications``).

Models start from random weights: nothing is downloaded, and a request for pretrained
weights gets a clear error.

Examples
--------
>>> import tunelab as kt
>>> sorted(name for name in dir(kt.applications) if name.startswith("Hyper"))
['HyperEfficientNet', 'HyperImageAugment', 'HyperResNet', 'HyperXception']
"""

from tunelab_keras.applications.augment import HyperImageAugment
from tunelab_keras.applications.efficientnet import HyperEfficientNet
from tunelab_keras.applications.resnet import HyperResNet
from tunelab_keras.applications.xception import HyperXception

__all__ = ["HyperEfficientNet", "HyperImageAugment", "HyperResNet", "HyperXception"]
