"""The modules of KerasTuner's ``keras_tuner.tuners`` package, imported as
``tunelab.tuners.<name>``.

`tunelab.tuners` is one module; its ``__path__`` points here, so that
``from tunelab.tuners import randomsearch`` and ``import tunelab.tuners.hyperband`` find these
files. Import them by those names, not from this package.
"""
