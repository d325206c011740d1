/* Fixture NvInferVersion.h: TensorRT @@v@@ (package builds alias the enterprise macros) */
#ifndef NV_INFER_VERSION_H
#define NV_INFER_VERSION_H

#define TRT_MAJOR_ENTERPRISE @@major@@
#define TRT_MINOR_ENTERPRISE @@minor@@
#define TRT_PATCH_ENTERPRISE @@patch@@
#define TRT_BUILD_ENTERPRISE @@build@@
#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< TensorRT major version.
#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE //!< TensorRT minor version.
#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE //!< TensorRT patch version.
#define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE //!< TensorRT build number.

#endif // NV_INFER_VERSION_H
