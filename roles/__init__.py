"""gpuhost's roles. Import one to use it in a Fabric script: `from gpuhost.roles import cuda`."""
