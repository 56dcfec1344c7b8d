# cmake -DIN=page.html -DOUT=page.cc -P embed_page.cmake: the page as a C++ string constant.
file(READ ${IN} content)
file(WRITE ${OUT} "// Generated from src/dashboard/page.html by embed_page.cmake; do not edit.\n"
     "namespace exmc::dashboard {\n"
     "extern const char* const kPageHtml;\n"
     "const char* const kPageHtml = R\"EXMC_PAGE(${content})EXMC_PAGE\";\n"
     "}  // namespace exmc::dashboard\n")
