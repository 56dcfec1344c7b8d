// Umbrella header of the Stan front end: parse, check, print, bind data.
#pragma once

#include "exmc/stan/ast.hpp"
#include "exmc/stan/data.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/lexer.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/printer.hpp"
#include "exmc/stan/semantic.hpp"
