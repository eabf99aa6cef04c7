// glibc_compat.cpp - only in the prebuilt shims (native/build-prebuilt.sh defines TTRT_PORTABLE_GLIBC).
//
// The prebuilt shims link libstdc++ statically so that they do not need the build machine's libstdc++.
// That libstdc++.a was compiled against the build machine's glibc; from glibc 2.38 on, its headers redirect
// strtoul and friends to __isoc23_strtoul (C23 semantics: also "0b" prefixes), a symbol only glibc >= 2.38
// has, which would keep the shim from loading on Ubuntu 22.04, Debian 12 or RHEL 9. These hidden
// definitions satisfy those references inside the shim with the classic functions every glibc has (no code
// here parses binary literals). No header is included: glibc's declarations of the same names would clash.
#if defined(TTRT_PORTABLE_GLIBC) && defined(__linux__)

extern "C" {

unsigned long ttrt_classic_strtoul(char const* s, char** end, int base) __asm__("strtoul");
long ttrt_classic_strtol(char const* s, char** end, int base) __asm__("strtol");
unsigned long long ttrt_classic_strtoull(char const* s, char** end, int base) __asm__("strtoull");
long long ttrt_classic_strtoll(char const* s, char** end, int base) __asm__("strtoll");

__attribute__((visibility("hidden"))) unsigned long __isoc23_strtoul(char const* s, char** end, int base)
{
    return ttrt_classic_strtoul(s, end, base);
}

__attribute__((visibility("hidden"))) long __isoc23_strtol(char const* s, char** end, int base)
{
    return ttrt_classic_strtol(s, end, base);
}

__attribute__((visibility("hidden"))) unsigned long long __isoc23_strtoull(char const* s, char** end, int base)
{
    return ttrt_classic_strtoull(s, end, base);
}

__attribute__((visibility("hidden"))) long long __isoc23_strtoll(char const* s, char** end, int base)
{
    return ttrt_classic_strtoll(s, end, base);
}

} // extern "C"

#endif
