// The user guide (docs/*.md) against the command's own --help, so neither can drift silently.
//
// For each subcommand, `exmc CMD --help` gives its long options (--xyz at the start of an option
// line). The page that documents CMD must:
//   1. list every one of them in an option table: a Markdown table under a heading that says
//      "Options of `exmc CMD`" (one heading may name several commands that share the rows);
//   2. attribute to CMD only options that its --help has: the rows of those tables, the command
//      lines in code blocks (a line starting `build/exmc CMD`, `exmc CMD`, `mpirun ... exmc CMD`,
//      `python3 -m exmc CMD`) and inline code spans `exmc CMD ...`.
// --help and --help-all are every command's; the README's quick tour says so once.
// Failures name the option, the command and the page (with the line for a stale option).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct DocCase {
  const char* command;
  const char* page;  // relative to the source directory
};

// Which page documents which command. A new subcommand must be added here (and documented):
// DocsTest.EverySubcommandHasAPage fails until it is.
const DocCase kCases[] = {
    {"sample", "docs/sample.md"},        {"optimize", "docs/methods.md"},
    {"laplace", "docs/methods.md"},      {"pathfinder", "docs/methods.md"},
    {"variational", "docs/methods.md"},  {"smc", "docs/methods.md"},
    {"generate_quantities", "docs/methods.md"}, {"log_prob", "docs/methods.md"},
    {"summary", "docs/analysis.md"},
    {"diagnose", "docs/analysis.md"},    {"loo", "docs/analysis.md"},
    {"plot", "docs/analysis.md"},        {"batch", "docs/batch.md"},
};

// Shown by ctest and gtest for each case ("sample in docs/sample.md"), not its bytes.
void PrintTo(const DocCase& c, std::ostream* os) { *os << c.command << " in " << c.page; }

std::string exmc_binary() { return std::string(EXMC_BINARY_DIR) + "/exmc"; }

struct Output {
  int status = -1;
  std::string text;
};

Output run(const std::string& args) {
  Output o;
  const std::string cmd = "'" + exmc_binary() + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.text.append(buf.data(), n);
  const int st = pclose(p);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

bool is_global(const std::string& opt) { return opt == "help" || opt == "help-all"; }

// Long options at the start of an option line: CLI11's "  --data TEXT", "  -h,--help" and
// argparse's "  -o OUTPUT, --output OUTPUT", "  --kind {trace,...}". Options named in the
// descriptions are not options of their own line and are not read.
std::set<std::string> help_options(const std::string& help) {
  static const std::regex line_re(R"(^\s*(?:-[A-Za-z](?: [A-Z_]+)?,\s*)?--([a-z][a-z0-9-]*))");
  std::set<std::string> out;
  std::istringstream in(help);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, line_re) && !is_global(m[1])) out.insert(m[1]);
  }
  return out;
}

std::vector<std::string> long_options_in(const std::string& text) {
  static const std::regex opt_re(R"((?:^|[^A-Za-z0-9_-])--([a-z][a-z0-9-]*))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), opt_re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

std::set<std::string> commands_named(const std::string& text) {
  static const std::regex cmd_re(R"(exmc ([a-z_]+))");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), cmd_re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1]);
  return out;
}

// Where a page attributes an option to a command.
struct Attribution {
  std::string command, option;
  int line;
  bool in_table;  // a row of an "Options of `exmc CMD`" table
};

// The options a command line in a code block (or an inline span) gives CMD: the tokens after
// "exmc CMD" up to a pipe, a redirection, a ';', '&&' or a comment.
void attribute_command_line(const std::string& text, int line, std::vector<Attribution>& out) {
  // The first "exmc " starts the command; "exmc laplace: error: ..." (tool output) is none.
  static const std::regex cmd_re(R"((?:^|[\s/])exmc ([a-z_]*)(.?))");
  std::smatch m;
  if (!std::regex_search(text, m, cmd_re) || m[1].length() == 0) return;
  if (m[2].length() != 0 && !std::isspace(static_cast<unsigned char>(m[2].str()[0]))) return;
  const std::string cmd = m[1];
  std::string rest = m.suffix();
  for (const char* stop : {" | ", " > ", " 2>", " && ", ";", " #", " >"}) {
    const auto at = rest.find(stop);
    if (at != std::string::npos) rest = rest.substr(0, at);
  }
  for (const auto& o : long_options_in(rest)) out.push_back({cmd, o, line, false});
}

bool starts_command_line(const std::string& trimmed) {
  for (const char* p : {"build/exmc ", "exmc ", "mpirun ", "python3 -m exmc ", "/usr/bin/python3 -m exmc "})
    if (trimmed.rfind(p, 0) == 0) return true;
  return false;
}

std::vector<Attribution> attributions(const std::string& page_text) {
  std::vector<Attribution> out;
  std::istringstream in(page_text);
  std::string line;
  int no = 0;
  bool fenced = false;
  std::set<std::string> table_commands;  // under an "Options of `exmc CMD`" heading
  std::string pending;                   // a command line continued with a trailing backslash
  int pending_line = 0;
  static const std::regex span_re(R"(`((?:build/)?exmc [a-z_]+[^`]*)`)");
  while (std::getline(in, line)) {
    ++no;
    const auto first = line.find_first_not_of(" \t");
    const std::string trimmed = first == std::string::npos ? "" : line.substr(first);
    if (trimmed.rfind("```", 0) == 0) {
      fenced = !fenced;
      continue;
    }
    const bool code = fenced || line.rfind("    ", 0) == 0;
    if (code) {
      if (!pending.empty() || starts_command_line(trimmed)) {
        if (pending.empty()) pending_line = no;
        pending += " " + trimmed;
        if (!pending.empty() && pending.back() == '\\') {
          pending.pop_back();
          continue;
        }
        attribute_command_line(pending, pending_line, out);
        pending.clear();
      }
      continue;
    }
    pending.clear();
    if (trimmed.rfind("#", 0) == 0) {
      table_commands.clear();
      std::string lower = trimmed;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lower.find("options of") != std::string::npos) table_commands = commands_named(trimmed);
      continue;
    }
    if (!table_commands.empty() && trimmed.rfind("|", 0) == 0) {
      const auto end = trimmed.find('|', 1);
      const std::string cell = trimmed.substr(1, end == std::string::npos ? std::string::npos : end - 1);
      for (const auto& o : long_options_in(cell))
        for (const auto& c : table_commands) out.push_back({c, o, no, true});
    }
    for (auto it = std::sregex_iterator(line.begin(), line.end(), span_re); it != std::sregex_iterator(); ++it)
      attribute_command_line((*it)[1], no, out);
  }
  return out;
}

std::string read_page(const std::string& page) {
  std::ifstream f(std::string(EXMC_SOURCE_DIR) + "/" + page);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class DocsTest : public ::testing::TestWithParam<DocCase> {};

TEST_P(DocsTest, PageMatchesHelp) {
  const DocCase c = GetParam();
  const Output help = run(std::string(c.command) + " --help");
  if (std::string(c.command) == "plot" && help.status != 0)
    GTEST_SKIP() << "exmc plot --help runs the Python package beside the build, which failed here:\n" << help.text;
  ASSERT_EQ(help.status, 0) << "exmc " << c.command << " --help failed:\n" << help.text;
  const std::set<std::string> options = help_options(help.text);
  ASSERT_FALSE(options.empty()) << "no options read from exmc " << c.command << " --help:\n" << help.text;

  const std::string text = read_page(c.page);
  ASSERT_FALSE(text.empty()) << c.page << " is missing or empty";
  std::set<std::string> in_tables;
  for (const auto& a : attributions(text)) {
    if (a.command != c.command || is_global(a.option)) continue;
    if (a.in_table) in_tables.insert(a.option);
    EXPECT_TRUE(options.count(a.option))
        << c.page << ":" << a.line << " attributes --" << a.option << " to `exmc " << c.command << "`"
        << (a.in_table ? " (a row of its option table)" : " (a command line)") << ", but `exmc " << c.command
        << " --help` has no --" << a.option << ": remove it from the page or correct its name";
  }
  for (const auto& o : options)
    EXPECT_TRUE(in_tables.count(o)) << c.page << " does not document --" << o << " of `exmc " << c.command
                                    << "` (it is in `exmc " << c.command
                                    << " --help`): add a row for it to the table under the page's "
                                       "\"Options of `exmc "
                                    << c.command << "`\" heading";
}

INSTANTIATE_TEST_SUITE_P(Commands, DocsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<DocCase>& i) { return std::string(i.param.command); });

// Every subcommand `exmc --help` lists has a page above.
TEST(DocsCoverage, EverySubcommandHasAPage) {
  const Output help = run("--help");
  ASSERT_EQ(help.status, 0) << help.text;
  const auto at = help.text.find("Subcommands:");
  ASSERT_NE(at, std::string::npos) << help.text;
  std::istringstream in(help.text.substr(at));
  std::string line;
  std::getline(in, line);
  int listed = 0;
  while (std::getline(in, line)) {
    static const std::regex sub_re(R"(^  ([a-z_]+)\s)");
    std::smatch m;
    if (!std::regex_search(line, m, sub_re)) continue;
    ++listed;
    const std::string cmd = m[1];
    const bool covered =
        std::any_of(std::begin(kCases), std::end(kCases), [&](const DocCase& c) { return cmd == c.command; });
    EXPECT_TRUE(covered) << "`exmc " << cmd << "` has no documentation page: add it to kCases in "
                         << "tools/docs_test.cc and document its options in that page";
  }
  EXPECT_GT(listed, 0) << help.text;
}

// The parser itself, on a small page: a table row, a command line, a continued command line and
// an inline span are attributed; prose and tool output are not.
TEST(DocsParser, AttributesTablesAndCommandLines) {
  const std::string page =
      "# Options of `exmc optimize` and `exmc laplace`\n"
      "\n"
      "| option | default | meaning |\n"
      "|---|---|---|\n"
      "| `--seed N` | random | the seed |\n"
      "\n"
      "## Examples\n"
      "\n"
      "    build/exmc sample m.stan --chains 2 | tail -1\n"
      "    mpirun -n 2 --oversubscribe build/exmc batch --sbc m.stan \\\n"
      "        --simulations 5\n"
      "    exmc laplace: error: Run exmc optimize --jacobian\n"
      "\n"
      "Prose with --nothing and `exmc summary --format csv`.\n";
  std::vector<std::string> got;
  for (const auto& a : attributions(page)) got.push_back(a.command + " " + a.option + (a.in_table ? " table" : ""));
  const std::vector<std::string> want = {"laplace seed table", "optimize seed table", "sample chains",
                                         "batch sbc",           "batch simulations",  "summary format"};
  EXPECT_EQ(got, want);
}

}  // namespace
