# libhdf5 is loaded when the first HDF5 file is read (src/io/hdf5.cpp), not
# when a program starts: Debian's libhdf5 pulls in libcurl, GnuTLS, Kerberos
# and LDAP, whose loading and start-up cost about 4 ms in every command. The
# code needs libhdf5's headers at build time and the name of the shared
# library it was built against at run time.
#
# deepnet_hdf5_runtime(TARGET): adds libhdf5's include directories to TARGET
# and defines DEEPNET_HDF5_LIBRARY, the library's soname (e.g.
# libhdf5_serial.so.103 on Debian 12), read from the library that FindHDF5 found.
function(deepnet_hdf5_runtime target)
  set(library "")
  foreach(candidate IN LISTS HDF5_C_LIBRARIES)
    if(candidate MATCHES "hdf5[^/]*\\.so" AND NOT candidate MATCHES "hdf5_hl")
      set(library "${candidate}")
      break()
    endif()
  endforeach()
  if(NOT library)
    message(FATAL_ERROR "deepnet: found no shared libhdf5 among HDF5_C_LIBRARIES (${HDF5_C_LIBRARIES})")
  endif()
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
    get_filename_component(soname "${real}" NAME)  # the file itself, when no soname can be read
  endif()
  target_include_directories(${target} PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
  target_compile_definitions(${target} PRIVATE ${HDF5_C_DEFINITIONS} DEEPNET_HDF5_LIBRARY="${soname}")
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
  message(STATUS "deepnet: libhdf5 is loaded on first use as ${soname}")
endfunction()
