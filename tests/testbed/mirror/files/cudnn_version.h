/* Fixture cudnn_version.h: cuDNN @@v@@ */
#ifndef CUDNN_VERSION_H_
#define CUDNN_VERSION_H_

#define CUDNN_MAJOR @@major@@
#define CUDNN_MINOR @@minor@@
#define CUDNN_PATCHLEVEL @@patch@@

#define CUDNN_VERSION (CUDNN_MAJOR * @@mult@@ + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)

#endif /* CUDNN_VERSION_H */
