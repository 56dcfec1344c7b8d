# cmake -DSOURCE=examples/cpp -DBINARY=DIR -DEXMC_DIR=BUILD -DEXMC_SOURCE=exmc -DGENERATOR=Ninja
#       -DCXX=c++ -DMODE=package|subdirectory -P this
# What a user of exmc's C++ library does. MODE=package: configure their project with exmc_DIR
# pointing at a built exmc, build, run. MODE=subdirectory: configure it with exmc's sources
# inside (add_subdirectory, as FetchContent does) and check that only the library came along
# (building it all again would take as long as exmc's own build, so nothing is built).
# A fresh binary folder each time, so the configure is a first one.
foreach(var SOURCE BINARY EXMC_DIR EXMC_SOURCE GENERATOR CXX MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_as_another_project.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${BINARY})
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " line)
    message(FATAL_ERROR "failed (${rc}): ${line}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()
set(configure ${CMAKE_COMMAND} -S ${SOURCE} -B ${BINARY} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "package")
  step(${configure} -Dexmc_DIR=${EXMC_DIR})
  step(${CMAKE_COMMAND} --build ${BINARY} --target own_density stan_program)
  step(${BINARY}/own_density)
  step(${BINARY}/stan_program)
elseif(MODE STREQUAL "subdirectory")
  step(${configure} -DEXMC_SOURCE_DIR=${EXMC_SOURCE})
  step(${CMAKE_COMMAND} --build ${BINARY} --target help)
  foreach(wanted exmc_core exmc_services exmc_stan_lower)
    if(NOT step_output MATCHES "(^|\n)${wanted}: ")
      message(FATAL_ERROR "add_subdirectory(exmc): no target ${wanted}")
    endif()
  endforeach()
  # The command, tests and Python module stay out of another project's build.
  foreach(unwanted "exmc: " "exmc_cli: " "cli_test: " "model_test: " "_exmc: " "stan_json_fuzzer_replay: ")
    if(step_output MATCHES "(^|\n)${unwanted}")
      message(FATAL_ERROR "add_subdirectory(exmc) brought in ${unwanted}")
    endif()
  endforeach()
else()
  message(FATAL_ERROR "MODE is package or subdirectory, not '${MODE}'")
endif()
