"""invswarm engine: instances, problems, solvers and the command line around the kernels."""
