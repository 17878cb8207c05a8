#include "scenarios/recorded_log.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace planttwin {

std::string LogProblem::to_string() const {
  std::string s = file + ":" + std::to_string(line) + ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

namespace {

struct Column {
  const char* name;
  bool required;
};

// The columns of each log kind (docs/recorded.md).
const std::vector<Column>& columns_of(const std::string& kind) {
  static const std::vector<Column> ranges = {{"t", true}, {"tag", true}, {"anchor", true}, {"d", true},
                                             {"rx_dbm", false}, {"fp_dbm", false}};
  static const std::vector<Column> tdoa = {{"t", true}, {"tag", true}, {"anchor_a", true}, {"anchor_b", true}, {"dd", true}};
  static const std::vector<Column> truth = {{"t", true}, {"tag", true}, {"x", true}, {"y", true}, {"z", true}};
  return kind == "ranges" ? ranges : kind == "tdoa" ? tdoa : truth;
}

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

std::vector<std::string> split(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i)
    if (i == line.size() || line[i] == ',') {
      out.push_back(trim(line.substr(start, i - start)));
      start = i + 1;
    }
  return out;
}

// A number as text: finite, or ±inf / nan (any case). false when it is not a number at all.
bool parse_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  std::string l;
  for (char c : s) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "inf" || l == "+inf" || l == "infinity") return v = HUGE_VAL, true;
  if (l == "-inf" || l == "-infinity") return v = -HUGE_VAL, true;
  if (l == "nan" || l == "-nan") return v = NAN, true;
  const char* b = s.data() + (s[0] == '+' ? 1 : 0);
  const auto r = std::from_chars(b, s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

struct Parser {
  const Scenario& sc;
  const std::string& kind;
  const std::string& file;
  RecordedLog& out;
  std::map<std::string, int> tag_index;     // log tag id -> index in out.tags
  std::map<std::string, int> anchor_index;  // site anchor id -> index

  void problem(int line, const std::string& field, const std::string& message) {
    if (out.problems.size() < RecordedLog::kMaxProblems) out.problems.push_back({file, line, field, message});
  }

  int tag(const std::string& id) {
    auto it = tag_index.find(id);
    if (it != tag_index.end()) return it->second;
    out.tags.push_back(id);
    return tag_index[id] = static_cast<int>(out.tags.size()) - 1;
  }

  bool run(const std::string& text, std::string& error) {
    for (size_t i = 0; i < out.tags.size(); ++i) tag_index[out.tags[i]] = static_cast<int>(i);
    for (size_t i = 0; i < sc.site.anchors.size(); ++i) anchor_index[sc.site.anchors[i].id] = static_cast<int>(i);
    std::map<std::string, bool> carried;  // tags the scenario's people carry
    for (const PersonDef& p : sc.people)
      if (p.tag) carried[*p.tag] = true;

    const std::vector<Column>& cols = columns_of(kind);
    std::vector<int> at(cols.size(), -1);  // column -> position in the row
    size_t width = 0;
    bool header = false;
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      const std::string_view raw(text.data() + pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      const std::string line = trim(raw);
      if (line.empty() || line[0] == '#') {
        if (nl == text.size()) break;
        continue;
      }
      std::vector<std::string> f = split(line);
      if (!header) {
        header = true;
        width = f.size();
        for (size_t k = 0; k < f.size(); ++k) {
          size_t c = 0;
          while (c < cols.size() && f[k] != cols[c].name) ++c;
          if (c == cols.size()) {
            std::string names;
            for (const Column& col : cols) names += std::string(names.empty() ? "" : ", ") + col.name;
            error = file + ":" + std::to_string(line_no) + ": " + f[k] + ": unknown column (a " + kind + " log has: " + names + ")";
            return false;
          }
          if (at[c] >= 0) {
            error = file + ":" + std::to_string(line_no) + ": " + f[k] + ": column given twice";
            return false;
          }
          at[c] = static_cast<int>(k);
        }
        for (size_t c = 0; c < cols.size(); ++c)
          if (cols[c].required && at[c] < 0) {
            error = file + ":" + std::to_string(line_no) + ": " + cols[c].name + ": missing column (the first line must name the columns)";
            return false;
          }
        if (nl == text.size()) break;
        continue;
      }
      ++out.rows;
      if (f.size() != width) {
        ++out.bad_rows;
        problem(line_no, "", "expected " + std::to_string(width) + " fields, found " + std::to_string(f.size()));
        if (nl == text.size()) break;
        continue;
      }
      auto cell = [&](const char* name) -> const std::string* {
        for (size_t c = 0; c < cols.size(); ++c)
          if (std::string_view(cols[c].name) == name) return at[c] < 0 ? nullptr : &f[static_cast<size_t>(at[c])];
        return nullptr;
      };
      bool bad = false;
      auto fail = [&](const char* field, const std::string& msg) {
        if (!bad) {
          ++out.bad_rows;
          problem(line_no, field, msg);
        }
        bad = true;
      };
      auto number = [&](const char* field, double& v) {
        const std::string& s = *cell(field);
        if (!parse_number(s, v)) return fail(field, "expected a number, found '" + s + "'");
        if (!std::isfinite(v)) fail(field, "not a finite number ('" + s + "')");
      };
      auto optional_number = [&](const char* field, double& v) {
        const std::string* s = cell(field);
        if (!s || s->empty()) return;
        double x = 0;
        if (!parse_number(*s, x)) return fail(field, "expected a number or nothing, found '" + *s + "'");
        if (!std::isfinite(x)) {
          ++out.dropped_columns;
          return;
        }
        v = x;
      };
      auto anchor = [&](const char* field) {
        const std::string& s = *cell(field);
        auto it = anchor_index.find(s);
        if (it == anchor_index.end()) {
          fail(field, "unknown anchor '" + s + "' (not in the site)");
          return -1;
        }
        return it->second;
      };
      double t = 0;
      number("t", t);
      Micros tm = 0;
      if (!bad) {
        if (t < 0 || t > to_seconds(sc.duration))
          fail("t", "time " + std::to_string(t) + " s lies outside the scenario (0 to " + std::to_string(to_seconds(sc.duration)) + " s)");
        else
          tm = static_cast<Micros>(std::llround(t * 1e6));
      }
      const std::string& tag_id = *cell("tag");
      if (!bad && !carried.count(tag_id)) fail("tag", "tag '" + tag_id + "' is carried by no person of the scenario");
      if (kind == "ranges") {
        RecordedRange r;
        r.t = tm;
        r.line = line_no;
        r.anchor = bad ? -1 : anchor("anchor");
        if (!bad) number("d", r.d);
        if (!bad && r.d < 0) fail("d", "a negative distance");
        if (!bad) optional_number("rx_dbm", r.rx_dbm);
        if (!bad) optional_number("fp_dbm", r.fp_dbm);
        if (!bad) {
          r.tag = tag(tag_id);
          out.ranges.push_back(r);
        }
      } else if (kind == "tdoa") {
        RecordedTdoa d;
        d.t = tm;
        d.line = line_no;
        d.anchor_a = bad ? -1 : anchor("anchor_a");
        d.anchor_b = bad ? -1 : anchor("anchor_b");
        if (!bad && d.anchor_a == d.anchor_b) fail("anchor_b", "the same anchor as anchor_a");
        if (!bad) number("dd", d.dd);
        if (!bad) {
          d.tag = tag(tag_id);
          out.tdoa.push_back(d);
        }
      } else {
        TruthSample s;
        s.t = tm;
        if (!bad) number("x", s.x);
        if (!bad) number("y", s.y);
        if (!bad) number("z", s.z);
        if (!bad) {
          std::vector<TruthSample>& v = out.truth[tag_id];
          if (!v.empty() && s.t <= v.back().t)
            fail("t", "truth times of tag '" + tag_id + "' must increase (the row before is at " +
                          std::to_string(to_seconds(v.back().t)) + " s)");
          else
            v.push_back(s);
        }
      }
      if (nl == text.size()) break;
    }
    if (!header) {
      error = file + ":1: the file is empty (the first line must name the columns)";
      return false;
    }
    return true;
  }
};

}  // namespace

bool parse_recorded_csv(const Scenario& sc, const std::string& kind, const std::string& file, const std::string& text,
                        RecordedLog& out, std::string& error) {
  Parser p{sc, kind, file, out, {}, {}};
  return p.run(text, error);
}

bool read_recorded_log(const Scenario& sc, RecordedLog& out, std::string& error) {
  out = RecordedLog{};
  const RecordedSource& src = sc.recorded;
  for (const auto& [kind, path] : {std::pair<std::string, std::string>{"ranges", src.ranges}, {"tdoa", src.tdoa}, {"truth", src.truth}}) {
    if (path.empty()) continue;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = path + ": cannot read the " + kind + " log";
      return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!parse_recorded_csv(sc, kind, path, ss.str(), out, error)) return false;
  }
  std::stable_sort(out.ranges.begin(), out.ranges.end(), [](const RecordedRange& a, const RecordedRange& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.tag != b.tag) return a.tag < b.tag;
    return a.anchor < b.anchor;
  });
  std::stable_sort(out.tdoa.begin(), out.tdoa.end(), [](const RecordedTdoa& a, const RecordedTdoa& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.tag != b.tag) return a.tag < b.tag;
    if (a.anchor_a != b.anchor_a) return a.anchor_a < b.anchor_a;
    return a.anchor_b < b.anchor_b;
  });
  return true;
}

std::optional<TruthPoint> truth_at(const std::vector<TruthSample>& s, Micros t) {
  if (s.empty() || t < s.front().t || t > s.back().t) return std::nullopt;
  auto it = std::lower_bound(s.begin(), s.end(), t, [](const TruthSample& a, Micros v) { return a.t < v; });
  if (it->t == t) return TruthPoint{it->x, it->y, it->z};
  const TruthSample& b = *it;
  const TruthSample& a = *(it - 1);
  const double w = static_cast<double>(t - a.t) / static_cast<double>(b.t - a.t);
  return TruthPoint{a.x + w * (b.x - a.x), a.y + w * (b.y - a.y), a.z + w * (b.z - a.z)};
}

}  // namespace planttwin
