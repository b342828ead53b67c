"""Build it yourself: a track of nine steps in which you write a small autograd engine in
NumPy and train LeNet on Fashion-MNIST with it. The text is docs/build/README.md.

    skeleton/    the untouched starting files (signatures, docstrings, NotImplementedError);
                 ``make build`` copies them into learner/ the first time
    learner/     YOUR files: edit these (git-ignored, so the repository stays clean)
    solutions/   the reference solutions: open one only when you are stuck
    tests/       each step's tests; ``make build STEP=n`` runs step n's
    track.py     the one loader every step and test imports earlier steps through
    check.py     the assertions the tests use (first mismatching index, shapes, gradients)
    data.py      Fashion-MNIST as arrays, found by minigrad.data's rules
    train.py     ``python -m build_track.train``: LeNet on Fashion-MNIST with your code"""
