import tunelab as kt


def test_smoke(pg_url, tmp_path):
    tuner = kt.RandomSearch(lambda hp: hp.Float("x", 0, 1) ** 2, objective="loss", max_trials=5,
                            directory=tmp_path, project_name="p", storage=pg_url)
    tuner.search(verbose=0)
    assert len(tuner.oracle.trials) == 5
    again = kt.RandomSearch(lambda hp: hp.Float("x", 0, 1) ** 2, objective="loss", max_trials=7,
                            directory=tmp_path, project_name="p", storage=pg_url)
    again.search(verbose=0)
    assert len(again.oracle.trials) == 7
    print(again.oracle.get_best_trials()[0].score)
