// Stan tokenizer with 1-based line/column positions on every token.
#include "exmc/stan/lexer.hpp"

#include <cctype>

#include <fmt/format.h>

#include "exmc/stan/error.hpp"

namespace exmc::stan {

std::string source_line(const std::string& source, int line) {
  int cur = 1;
  size_t start = 0;
  while (cur < line) {
    const size_t nl = source.find('\n', start);
    if (nl == std::string::npos) return "";
    start = nl + 1;
    ++cur;
  }
  size_t end = source.find('\n', start);
  if (end == std::string::npos) end = source.size();
  std::string s = source.substr(start, end - start);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

namespace {

// Longest spellings first so that ".*=" wins over ".*" and "%/%" over "%".
const char* const kOps[] = {"%/%", ".*=", "./=", ".^", ".*", "./", "<=", ">=", "==", "!=", "&&",
                            "||",  "+=",  "-=",  "*=", "/=", "<-", "+",  "-",  "*",  "/",  "%",
                            "\\",  "^",   "'",   "!",  "<",  ">",  "=",  "~",  "?",  ":",  ",",
                            ";",   "(",   ")",   "[",  "]",  "{",  "}",  "|"};

class Lexer {
 public:
  Lexer(const std::string& src, const std::string& file) : s_(src), file_(file) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skip_space_and_comments();
      Token t;
      t.loc = {line_, col_};
      if (i_ >= s_.size()) {
        t.kind = Tok::End;
        out.push_back(t);
        return out;
      }
      const char c = s_[i_];
      if (std::isalpha(static_cast<unsigned char>(c))) {
        t.kind = Tok::Ident;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
          t.text += advance();
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        number(t);
      } else if (c == '"') {
        string(t);
      } else if (c == '_') {
        fail(t.loc, "identifiers may not start with '_'");
      } else {
        bool matched = false;
        for (const char* op : kOps) {
          const std::string o(op);
          if (s_.compare(i_, o.size(), o) == 0) {
            t.kind = Tok::Op;
            t.text = o;
            for (size_t k = 0; k < o.size(); ++k) advance();
            matched = true;
            break;
          }
        }
        if (!matched) {
          const unsigned char uc = static_cast<unsigned char>(c);
          fail(t.loc, uc >= 0x20 && uc < 0x7f ? fmt::format("unexpected character '{}'", c)
                                              : fmt::format("unexpected byte 0x{:02x}", uc));
        }
      }
      out.push_back(std::move(t));
    }
  }

 private:
  char advance() {
    const char c = s_[i_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    return c;
  }

  [[noreturn]] void fail(Loc at, const std::string& msg) const {
    throw ParseError(file_, at.line, at.col, msg, source_line(s_, at.line));
  }

  void skip_space_and_comments() {
    for (;;) {
      if (i_ >= s_.size()) return;
      const char c = s_[i_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else if (c == '#' || (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/')) {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        const Loc start{line_, col_};
        advance();
        advance();
        for (;;) {
          if (i_ >= s_.size()) fail(start, "unterminated comment: expected '*/' before end of file");
          if (s_[i_] == '*' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
            advance();
            advance();
            break;
          }
          advance();
        }
      } else {
        return;
      }
    }
  }

  bool digit() const { return i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])); }

  void number(Token& t) {
    bool real = false;
    while (digit()) t.text += advance();
    // "1." followed by '*', '/' or '^' is an int before an elementwise operator.
    if (i_ < s_.size() && s_[i_] == '.' &&
        !(i_ + 1 < s_.size() && (s_[i_ + 1] == '*' || s_[i_ + 1] == '/' || s_[i_ + 1] == '^'))) {
      real = true;
      t.text += advance();
      while (digit()) t.text += advance();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      real = true;
      t.text += advance();
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) t.text += advance();
      if (!digit())
        fail({line_, col_}, fmt::format("malformed number '{}': expected digits in the exponent", t.text));
      while (digit()) t.text += advance();
    }
    t.kind = real ? Tok::RealLit : Tok::IntLit;
    if (i_ < s_.size() && s_[i_] == 'i' &&
        !(i_ + 1 < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_ + 1])) || s_[i_ + 1] == '_'))) {
      t.text += advance();
      t.kind = Tok::ImagLit;
    }
    if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
      fail({line_, col_}, fmt::format("malformed number: unexpected '{}' after '{}'", s_[i_], t.text));
  }

  void string(Token& t) {
    const Loc start = t.loc;
    advance();
    t.kind = Tok::String;
    for (;;) {
      if (i_ >= s_.size() || s_[i_] == '\n')
        fail(start, "unterminated string: expected '\"' before end of line");
      if (s_[i_] == '"') {
        advance();
        return;
      }
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) t.text += advance();
      t.text += advance();
    }
  }

  const std::string& s_;
  const std::string& file_;
  size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
};

}  // namespace

std::vector<Token> lex(const std::string& source, const std::string& file) {
  return Lexer(source, file).run();
}

}  // namespace exmc::stan
