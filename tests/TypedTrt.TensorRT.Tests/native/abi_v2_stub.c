/* A library that claims C ABI 2.0: TypedTrt.TensorRT (built for 1.x) must refuse it. */
__attribute__((visibility("default"))) int ttrt_abi_version(void) { return 2 << 16; }
