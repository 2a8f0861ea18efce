add_library(anemone_warnings INTERFACE)
target_compile_options(anemone_warnings INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wconversion -Wno-sign-conversion)

add_library(anemone_sanitizers INTERFACE)
if(ANEMONE_SANITIZE)
  target_compile_options(anemone_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(anemone_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# One static library per area: anemone_add_library(core SOURCES ... DEPS ...)
function(anemone_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(anemone_${name} STATIC ${ARG_SOURCES})
  add_library(anemone::${name} ALIAS anemone_${name})
  target_include_directories(anemone_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(anemone_${name} PUBLIC ${ARG_DEPS} PRIVATE anemone_warnings anemone_sanitizers)
endfunction()

function(anemone_add_tool name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} anemone_warnings anemone_sanitizers)
endfunction()
