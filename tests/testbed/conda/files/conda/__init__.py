"""A stand-in for conda 24.11.3 on the test hosts, standard library only.

It answers the conda commands the roles run (create, install, list, env list, info, config,
run, init, activation through etc/profile.d/conda.sh) with conda's options, output shapes,
records and exit codes, against channels served as conda-forge serves them.
"""

__version__ = "24.11.3"
