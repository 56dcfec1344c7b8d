# exmc as a library of another CMake project: one target, exmc::exmc, carrying every layer a
# C++ program needs (the builder API, a Stan program through the services, NUTS and the other
# methods, the analysis and the CSV files), and C++20.
#
# Two ways to get it (docs/cpp.md):
#   add_subdirectory(path/to/exmc)         (or FetchContent): the layers only, no tests or tools
#   find_package(exmc REQUIRED)            with exmc_DIR=path/to/exmc/build, a built tree
# The build tree is the package: the JIT module is loaded from where this build put it
# (src/graph), so the tree must stay where it was built. There is no `cmake --install` yet.
set(EXMC_LIBRARY_LAYERS
  exmc_core exmc_graph exmc_dist exmc_transform exmc_model exmc_nuts exmc_runtime exmc_io
  exmc_analysis exmc_optimize exmc_pathfinder exmc_variational exmc_smc exmc_stan
  exmc_stan_lower exmc_stan_gq exmc_services)
foreach(layer IN LISTS EXMC_LIBRARY_LAYERS)
  if(NOT TARGET ${layer})
    # Each is built whenever its dependencies are (Eigen, Boost, fmt, nlohmann_json): a missing
    # one means a layer's CMakeLists.txt changed what it defines.
    message(FATAL_ERROR "exmc_package.cmake: the layer target ${layer} is not defined")
  endif()
endforeach()

add_library(exmc_library INTERFACE)
target_link_libraries(exmc_library INTERFACE ${EXMC_LIBRARY_LAYERS})
target_compile_features(exmc_library INTERFACE cxx_std_20)
set_target_properties(exmc_library PROPERTIES EXPORT_NAME exmc)
add_library(exmc::exmc ALIAS exmc_library)

# The build tree as a package for find_package(exmc): its targets (exmc::exmc and the layers,
# exmc::exmc_core ...) and what they need found again in the consumer.
export(TARGETS ${EXMC_LIBRARY_LAYERS} exmc_library NAMESPACE exmc::
       FILE ${PROJECT_BINARY_DIR}/exmcTargets.cmake)
file(WRITE ${PROJECT_BINARY_DIR}/exmcConfig.cmake
"# exmc's build tree (${PROJECT_BINARY_DIR}) as a CMake package; written by cmake/exmc_package.cmake.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(Eigen3 3.4 NO_MODULE)
find_dependency(Boost 1.74)
find_dependency(nlohmann_json 3)
find_dependency(fmt)
include(\"\${CMAKE_CURRENT_LIST_DIR}/exmcTargets.cmake\")
")
include(CMakePackageConfigHelpers)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/exmcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
