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
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60)
  # Labels are set after discovery, on the list it defines (<name>_TESTS): passed through
  # gtest_discover_tests' PROPERTIES, a list of labels reached ctest as "LABELS cli mpi", i.e.
  # the first label only (CMake 3.25 writes each property value unquoted).
  if(T_LABELS)
    set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
    file(WRITE "${labels_script}"
         "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
  endif()
endfunction()
