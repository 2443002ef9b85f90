# Generates a C++ source defining `const char* <SYMBOL>()` that returns the text of IN.
# Run at build time with -DIN, -DOUT, -DSYMBOL, -DNAMESPACE.
file(READ "${IN}" text)
set(content "// Generated from ${IN} by cmake/embed_text.cmake. Do not edit.\nnamespace ${NAMESPACE} {\nconst char* ${SYMBOL}() {\n  static const char* const kText = R\"__TXT__(${text})__TXT__\";\n  return kText;\n}\n}  // namespace ${NAMESPACE}\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE "${OUT}" "${content}")
endif()
