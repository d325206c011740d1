/* Fixture cuda.h: CUDA driver API header of toolkit @@full@@ */
#ifndef __cuda_cuda_h__
#define __cuda_cuda_h__

#define CUDA_VERSION @@x@@0@@y@@0

#endif /* __cuda_cuda_h__ */
