// What a user can do when no random starting point has a finite log density, in the words of
// both interfaces; the engines' messages (NUTS, Pathfinder, ADVI) end with it. They said
// "init_radius", a field no user sets, or nothing.
#pragma once

namespace exmc {

inline constexpr const char* kInitRemedy =
    "give initial values, or a smaller radius (--init 0.5 on the command line, init=0.5 in Python)";

}  // namespace exmc
