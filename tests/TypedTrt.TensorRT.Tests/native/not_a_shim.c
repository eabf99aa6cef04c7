/* A loadable library without ttrt_abi_version: TypedTrt.TensorRT must say it is not the shim. */
__attribute__((visibility("default"))) int something_else(void) { return 42; }
