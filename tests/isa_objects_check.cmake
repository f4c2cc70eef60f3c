# Checks that the objects compiled for a wider instruction set than the build's
# (src/core/dgemm_avx512.cpp with -mavx512f, dgemm_avx2.cpp with -mavx2) share
# no code with the rest of the program:
#   cmake -DNM=<nm> -DOBJECTS="<object>|<object>|..." -P tests/isa_objects_check.cmake
# Each must define exactly one global symbol, its kernel, and no weak or
# unique symbol: an inline function or template instantiated there (a weak,
# COMDAT definition) could be the copy the linker keeps for the whole program,
# and AVX-512 code would then run on the portable path of a CPU without it.
cmake_minimum_required(VERSION 3.25)
set(expected
  "dgemm_avx512.cpp.o=_ZN7deepnet6detail12dgemm_avx512ERKNS0_9DgemmCallEPd"
  "dgemm_avx2.cpp.o=_ZN7deepnet6detail10dgemm_avx2ERKNS0_9DgemmCallEPd")
string(REPLACE "|" ";" objects "${OBJECTS}")
set(problems "")
foreach(entry IN LISTS expected)
  string(REGEX REPLACE "=.*" "" file_name "${entry}")
  string(REGEX REPLACE "^[^=]*=" "" kernel "${entry}")
  set(object "")
  foreach(candidate IN LISTS objects)
    if(candidate MATCHES "/${file_name}$")
      set(object "${candidate}")
    endif()
  endforeach()
  if(object STREQUAL "")
    list(APPEND problems "no object ${file_name} among the library's objects")
    continue()
  endif()
  execute_process(COMMAND "${NM}" --defined-only -P "${object}"
                  OUTPUT_VARIABLE symbols RESULT_VARIABLE status ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    list(APPEND problems "${NM} ${object} failed: ${errors}")
    continue()
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  set(found_kernel FALSE)
  foreach(line IN LISTS lines)
    # DW.ref.__gxx_personality_v0: the exception-handling personality pointer
    # (data, the same in every object with unwind tables; the sanitizer build emits it). Not code.
    if(line STREQUAL "" OR line MATCHES "^DW\\.ref\\.__gxx_personality_v0 ")
      continue()
    endif()
    # POSIX format: name type [value size]
    string(REGEX MATCH "^([^ ]+) ([A-Za-z])" _ "${line}")
    set(name "${CMAKE_MATCH_1}")
    set(type "${CMAKE_MATCH_2}")
    if(name STREQUAL kernel AND type STREQUAL "T")
      set(found_kernel TRUE)
    elseif(type MATCHES "^[A-Zuvw]$")
      list(APPEND problems "${file_name}: defines ${name} (nm type ${type}), visible to the linker")
    endif()
  endforeach()
  if(NOT found_kernel)
    list(APPEND problems "${file_name}: does not define its kernel ${kernel}")
  endif()
endforeach()
if(problems)
  string(REPLACE ";" "\n  " text "${problems}")
  message(FATAL_ERROR "instruction-set objects:\n  ${text}")
endif()
message(STATUS "instruction-set objects define their kernel only")
