"""Checks of the cuda role: toolkit at the resolved version, the default link, nvcc, and a GPU run."""

import pytest

from gpuhost.roles import _checks

PROGRAM = r"""
#include <cstdio>
#include <cuda_runtime.h>
__global__ void add(int *x) { x[threadIdx.x] += threadIdx.x; }
int main() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) { printf("no device\n"); return 1; }
  for (int d = 0; d < n; ++d) {
    int *x, h[32] = {0};
    cudaSetDevice(d);
    cudaMalloc(&x, sizeof h);
    cudaMemcpy(x, h, sizeof h, cudaMemcpyHostToDevice);
    add<<<1, 32>>>(x);
    cudaMemcpy(h, x, sizeof h, cudaMemcpyDeviceToHost);
    cudaFree(x);
    if (h[31] != 31) { printf("device %d computed %d\n", d, h[31]); return 1; }
  }
  printf("ran on %d devices\n", n);
  return 0;
}
"""


def _minor(stack):
    if stack.cuda is None:
        pytest.skip("no CUDA toolkit is resolved for this host")
    return str(stack.cuda.minor)


def test_toolkit_is_installed_at_the_resolved_version_and_held(host, gpuhost_stack):
    _minor(gpuhost_stack)
    _checks.assert_held_at(host, {gpuhost_stack.packages["cuda"][0]: gpuhost_stack.packages["cuda_version"]})


def test_the_cuda_meta_package_that_pulls_a_driver_is_not_installed(host):
    assert not host.package("cuda").is_installed


def test_usr_local_cuda_points_at_the_resolved_toolkit(host, gpuhost_stack):
    minor = _minor(gpuhost_stack)
    assert host.check_output("readlink -f /usr/local/cuda") == f"/usr/local/cuda-{minor}"


def test_nvcc_reports_the_resolved_release(host, gpuhost_stack):
    minor = _minor(gpuhost_stack)
    assert f"release {minor}," in host.check_output("/usr/local/cuda/bin/nvcc --version")


def test_login_shells_find_nvcc(host, gpuhost_stack, gpuhost_settings):
    minor = _minor(gpuhost_stack)
    if not gpuhost_settings["cuda"]["profile"]:
        pytest.skip("cuda.profile is off")
    assert f"release {minor}," in host.check_output("bash -lc 'nvcc --version'")


@pytest.mark.gpu
def test_a_cuda_program_built_with_the_host_nvcc_runs_on_every_gpu(host, gpuhost_stack, gpuhost_facts):
    _minor(gpuhost_stack)
    workdir = host.check_output("mktemp -d")
    host.run("printf %%s %s > %s/add.cu", PROGRAM, workdir)
    build = host.run("/usr/local/cuda/bin/nvcc -o %s/add %s/add.cu", workdir, workdir)
    assert build.rc == 0, build.stderr
    run = host.run("%s/add", workdir)
    host.run("rm -rf %s", workdir)
    assert run.rc == 0 and f"ran on {len(gpuhost_facts['pci'])} devices" in run.stdout, run.stdout
