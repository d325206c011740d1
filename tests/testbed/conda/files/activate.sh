#!/bin/sh
_CONDA_ROOT="@@prefix@@"
\. "$_CONDA_ROOT/etc/profile.d/conda.sh" || return $?
conda activate "$@"
