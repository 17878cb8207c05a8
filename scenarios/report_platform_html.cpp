// report.html's "Park platform" section (PL-11, SO-09; docs/platform.md "An acceptance day"): the
// park platform's verdict, as `live --platform-verdict` put it into report.json's `platform`
// section, drawn as a table like the requirement table, and inserted into the page the session
// wrote, before its provenance.
#include <cstdio>
#include <string>

#include "scenarios/report_html.h"

namespace planttwin {

namespace {

using Json = nlohmann::ordered_json;

std::string B(const std::string& zh, const std::string& en) { return html_bilingual(zh, en); }

// passed true / false / null (nothing to judge) -> the requirement table's cell
std::string verdict_cell(const Json& passed) {
  if (passed.is_boolean() && passed.get<bool>()) return "<td class=\"pass\">" + B("通过", "PASS") + "</td>";
  if (passed.is_boolean()) return "<td class=\"fail\">" + B("不通过", "FAIL") + "</td>";
  return "<td class=\"untested\">" + B("无数据", "NOTHING TO JUDGE") + "</td>";
}

unsigned long long count(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  const double v = it->get<double>();
  return v > 0 ? static_cast<unsigned long long>(v) : 0;
}
double number(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}
std::string text(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string platform_section_html(const Json& section) {
  const Json empty = Json::object();
  const Json& pl = section.contains("PL-11") && section["PL-11"].is_object() ? section["PL-11"] : empty;
  const Json& so = section.contains("SO-09") && section["SO-09"].is_object() ? section["SO-09"] : empty;
  std::string h = "<p>" + B("平台判定来自 ", "Verdict from ") + "<code>" + html_escape(text(section, "source")) + "</code> (" + B("配置 ", "profile ") + "<code>" +
                  html_escape(text(section, "profile")) + "</code>).</p>";
  h += "<table class=\"req\"><thead><tr><th>" + B("需求", "ID") + "</th><th>" + B("名称", "Requirement") + "</th><th>" + B("结论", "Result") + "</th><th>" +
       B("依据", "Evidence") + "</th></tr></thead><tbody>";
  char b[400];
  std::snprintf(b, sizeof b, "%llu / %llu / %.0f s / %.0f s / %llu / %llu", count(pl, "positions"), count(pl, "people"), number(pl, "max_gap_s"),
                number(pl, "max_gap_allowed_s"), count(pl, "late"), count(pl, "malformed"));
  h += "<tr><td>PL-11</td><td>" + B("位置上报间隔 ≤ 30 s", "Positions reach the platform at most 30 s apart") + "</td>" + verdict_cell(pl.value("passed", Json())) +
       "<td>" + B("位置数 / 人数 / 最大间隔 / 允许间隔 / 迟到 / 不合规：", "positions / people / largest gap / allowed gap / late / malformed: ") + b + "</td></tr>";
  std::string missing;
  if (so.contains("missing") && so["missing"].is_array())
    for (const Json& m : so["missing"])
      if (m.is_string()) missing += (missing.empty() ? "" : ", ") + html_escape(m.get<std::string>());
  h += "<tr><td>SO-09</td><td>" + B("作业票签发、验收时上报", "Permits reported at signing and at acceptance") + "</td>" + verdict_cell(so.value("passed", Json())) +
       "<td>" + B("本次会话签发或验收的作业票：", "permits signed or accepted in this session: ") + std::to_string(count(so, "session_permits_checked")) +
       (missing.empty() ? "" : "<br>" + B("平台未收到：", "not received by the platform: ") + missing) + "</td></tr>";
  h += "</tbody></table>";
  std::snprintf(b, sizeof b, "%llu / %llu / %llu", count(section, "batches"), count(section, "malformed"), count(section, "late"));
  h += "<p class=\"note\">" + B("平台存储的批次 / 不合规记录 / 迟到位置：", "Batches stored / malformed records / late positions at the platform: ") + b + "</p>";
  return h;
}

bool add_html_section(std::string& page, const HtmlSection& s, std::string& error) {
  const std::string anchor = "<section class=\"sec\" id=\"provenance\">";
  const std::string link = "<a href=\"#provenance\">";
  const std::size_t at = page.find(anchor);
  const std::size_t nav = page.find(link);
  if (at == std::string::npos || nav == std::string::npos || nav > at) {
    error = "not a planttwin report page (no provenance section to insert '" + s.id + "' before)";
    return false;
  }
  if (page.find("id=\"" + s.id + "\"") != std::string::npos) {
    error = "the page already has a section '" + s.id + "'";
    return false;
  }
  page.insert(at, "<section class=\"sec\" id=\"" + s.id + "\"><h2>" + B(s.zh, s.en) + "</h2>" + s.body + "</section>\n");
  page.insert(nav, "<a href=\"#" + s.id + "\">" + B(s.zh, s.en) + "</a> · ");
  return true;
}

}  // namespace planttwin
