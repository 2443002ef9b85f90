# Generates a C++ source that embeds every sql/migrations/NNNN_name.sql, in order, so the binary
# migrates a database from wherever it is installed. Run at build time with -DSRC_DIR and -DOUT.
file(GLOB files "${SRC_DIR}/sql/migrations/*.sql")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  string(REGEX MATCH "^[0-9]+" version "${name}")
  string(REGEX REPLACE "^0+([0-9])" "\\1" version "${version}")  # 0008 is no C++ octal literal
  file(READ "${f}" sql)
  string(APPEND body "  {${version}, \"${name}\", R\"__SQL__(${sql})__SQL__\"},\n")
endforeach()
set(content "// Generated from sql/migrations by cmake/embed_migrations.cmake. Do not edit.\n#include \"unipoints/db/migrations.hpp\"\n\nnamespace unipoints::db {\nconst std::vector<Migration>& EmbeddedMigrations() {\n  static const std::vector<Migration> kMigrations = {\n${body}  };\n  return kMigrations;\n}\n}  // namespace unipoints::db\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE "${OUT}" "${content}")
endif()
