// handles.cpp - the registry of live handles (the templates that use it are in shim_internal.h).

#include "shim_internal.h"

namespace ttrt_detail {

char const* kindName(Kind k)
{
    switch (k)
    {
    case Kind::kRuntime: return "runtime";
    case Kind::kEngine: return "engine";
    case Kind::kContext: return "execution context";
    }
    return "handle";
}

Registry& registry()
{
    static Registry* instance = new Registry();
    return *instance;
}

} // namespace ttrt_detail
