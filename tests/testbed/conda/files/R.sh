#!/bin/sh
# conda-forge's r-base puts R itself in the environment; this one runs the host's R (Debian's
# r-base-core, R_HOME unchanged) with the environment's library first on .libPaths().
R_LIBS="@@prefix@@/lib/R/library${R_LIBS:+:$R_LIBS}"
export R_LIBS
exec @@host_program@@ "$@"
