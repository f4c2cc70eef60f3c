# deepnet_soname(LIBRARY VAR): VAR = the soname of the shared library file
# LIBRARY (symbolic links followed), read with objdump; the file's own name
# when no soname can be read. For the libraries deepnet loads on first use
# with dlopen (libhdf5: hdf5_runtime.cmake; oneDNN: CMakeLists.txt).
function(deepnet_soname library var)
  get_filename_component(real "${library}" REALPATH)
  set(soname "")
  find_program(DEEPNET_OBJDUMP NAMES objdump ${CMAKE_OBJDUMP})
  if(DEEPNET_OBJDUMP)
    execute_process(COMMAND "${DEEPNET_OBJDUMP}" -p "${real}" OUTPUT_VARIABLE dump ERROR_QUIET RESULT_VARIABLE failed)
    if(NOT failed AND dump MATCHES "SONAME[ \t]+([^ \t\r\n]+)")
      set(soname "${CMAKE_MATCH_1}")
    endif()
  endif()
  if(NOT soname)
    get_filename_component(soname "${real}" NAME)
  endif()
  set(${var} "${soname}" PARENT_SCOPE)
endfunction()
