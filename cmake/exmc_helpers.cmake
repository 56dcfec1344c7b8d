# exmc_add_test(NAME src1.cc [src2.cc ...] LIBS lib1 [lib2 ...] [LABELS l1 ...])
# One GoogleTest binary; its tests are discovered when ctest runs (no run at build time).
include(GoogleTest)
function(exmc_add_test name)
  cmake_parse_arguments(T "" "" "LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    EXMC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    EXMC_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${T_LABELS}")
endfunction()
