#include "hardware-in-loop/uplink/platform.h"

#include <sqlite3.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "engine/time.h"
#include "hardware-in-loop/uplink/http_client.h"

namespace planttwin::uplink {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

std::string text_of(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

bool number_of(const Json& v, double& out) {
  if (v.is_number()) {
    out = v.get<double>();
    return true;
  }
  if (v.is_string()) {
    try {
      size_t used = 0;
      const std::string s = v.get<std::string>();
      out = std::stod(s, &used);
      return used == s.size();
    } catch (...) {
    }
  }
  return false;
}

// a record time: "yyyy-MM-dd HH:mm:ss" (compared as is: one time zone per platform) or Unix s / ms
bool time_ms_of(const Json& v, std::int64_t& ms) {
  if (v.is_number()) {
    const double d = v.get<double>();
    ms = static_cast<std::int64_t>(d > 1e11 ? d : d * 1000);
    return true;
  }
  if (!v.is_string()) return false;
  int y, mo, d, h, mi, s;
  if (std::sscanf(v.get<std::string>().c_str(), "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return false;
  ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000LL;
  return true;
}

std::string now_text() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

struct MockPlatform::Impl {
  UplinkProfile profile;
  PlatformCredentials creds;
  PlatformOptions opt;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;
  std::atomic<bool> stopping{false};
  sqlite3* db = nullptr;

  // connections: their sockets' descriptors (shut down on stop) and threads
  std::mutex conn_mu;
  std::list<std::pair<int, std::thread>> conns;

  // everything below under mu
  mutable std::mutex mu;
  std::map<std::string, std::string> answered;  // batch key -> first answer (ok or invalid)
  std::map<std::string, std::uint64_t> outcomes;  // requests by answer
  std::uint64_t requests = 0, batch_requests = 0, lost = 0;
  std::map<std::string, std::uint64_t> records;  // by kind
  std::uint64_t malformed = 0;
  struct Finding {
    std::string batch, kind, what;
    bool late = false;
  };
  std::vector<Finding> findings;  // the first kMaxFindings
  std::uint64_t findings_total = 0;
  static constexpr size_t kMaxFindings = 500;
  std::vector<std::pair<std::string, std::string>> refused;  // the last refused requests: outcome, why
  // PL-11
  std::map<std::string, std::int64_t> last_position;  // person -> time (ms)
  std::uint64_t positions = 0, late = 0;
  double max_gap_s = 0;
  // SO-09
  struct Permit {
    std::set<std::string> statuses;
  };
  std::map<std::string, Permit> permits;

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("platform store: " + m);
    }
  }

  // validation of one record; findings as texts (late: the PL-11 cadence)
  std::vector<std::pair<std::string, bool>> check(const std::string& kind, const Json& r) {
    std::vector<std::pair<std::string, bool>> out;
    auto rule = profile.rules.find(kind);
    if (!r.is_object()) {
      out.push_back({"not a JSON object", false});
      return out;
    }
    if (rule == profile.rules.end()) return out;
    const KindRules& k = rule->second;
    for (const std::string& f : k.required)
      if (!r.contains(f) || r[f].is_null() || (r[f].is_string() && r[f].get<std::string>().empty()))
        out.push_back({"missing " + f + " 缺少必填字段", false});
    for (const auto& [f, allowed] : k.codes) {
      if (!r.contains(f) || r[f].is_null() || text_of(r[f]).empty()) continue;
      const std::string v = text_of(r[f]);
      bool ok = false;
      for (const auto& a : allowed) ok = ok || a == v;
      if (!ok) out.push_back({f + " '" + v + "' not in the code list 代码不在代码表中", false});
    }
    for (const auto& [f, range] : k.ranges) {
      if (!r.contains(f)) continue;
      double v = 0;
      if (!number_of(r[f], v) || !std::isfinite(v) || v < range.first || v > range.second) {
        char b[160];
        std::snprintf(b, sizeof b, " out of range [%g, %g] 超出范围", range.first, range.second);
        out.push_back({f + " " + text_of(r[f]) + b, false});
      }
    }
    return out;
  }

  // the record's effect on PL-11 and SO-09 (also for records loaded from the store)
  std::string absorb(const std::string& kind, const Json& r) {
    std::string late_text;
    auto rule = profile.rules.find(kind);
    ++records[kind];
    if (rule == profile.rules.end() || !r.is_object()) return late_text;
    const KindRules& k = rule->second;
    if (k.cadence_max_gap_s > 0 && r.contains(k.cadence_person) && r.contains(k.cadence_time)) {
      std::int64_t t = 0;
      if (time_ms_of(r[k.cadence_time], t)) {
        ++positions;
        const std::string person = text_of(r[k.cadence_person]);
        auto it = last_position.find(person);
        if (it != last_position.end() && t > it->second) {
          const double gap = static_cast<double>(t - it->second) / 1000.0;
          max_gap_s = std::max(max_gap_s, gap);
          if (gap > k.cadence_max_gap_s) {
            ++late;
            char b[200];
            std::snprintf(b, sizeof b, "late position 位置上报间隔超限: %s at %s, %.0f s after the previous (max %.0f s, PL-11)", person.c_str(),
                          text_of(r[k.cadence_time]).c_str(), gap, k.cadence_max_gap_s);
            late_text = b;
          }
        }
        if (it == last_position.end() || t > it->second) last_position[person] = t;
      }
    }
    if (!k.permit_id.empty() && r.contains(k.permit_id)) permits[text_of(r[k.permit_id])].statuses.insert(r.contains(k.permit_status) ? text_of(r[k.permit_status]) : "");
    return late_text;
  }

  void add_finding(const std::string& batch, const std::string& kind, const std::string& what, bool is_late) {
    ++findings_total;
    if (findings.size() < kMaxFindings) findings.push_back({batch, kind, what, is_late});
  }

  void open_store() {
    std::error_code ec;
    fs::create_directories(opt.store_dir, ec);
    const std::string file = (fs::path(opt.store_dir) / "platform.sqlite").string();
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
      std::string m = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      db = nullptr;
      throw std::runtime_error(file + ": cannot open the platform store: " + m);
    }
    sqlite3_busy_timeout(db, 5000);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec("CREATE TABLE IF NOT EXISTS request(id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, path TEXT, kind TEXT, answer TEXT, detail TEXT);"
         "CREATE TABLE IF NOT EXISTS batch(key TEXT PRIMARY KEY, kind TEXT NOT NULL, received_at TEXT, records INTEGER, answer TEXT, payload TEXT);"
         "CREATE TABLE IF NOT EXISTS record(id INTEGER PRIMARY KEY AUTOINCREMENT, batch_key TEXT NOT NULL, kind TEXT NOT NULL, record TEXT NOT NULL, findings TEXT NOT NULL);");
    // what an earlier run stored: keys, PL-11 and SO-09 state, findings
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT key, answer FROM batch", -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW)
      answered[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    sqlite3_prepare_v2(db, "SELECT batch_key, kind, record, findings FROM record ORDER BY id", -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      const std::string kind = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
      const Json r = Json::parse(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)), nullptr, false);
      const Json f = Json::parse(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)), nullptr, false);
      absorb(kind, r);
      bool bad = false;
      if (f.is_array())
        for (const auto& x : f) {
          const bool is_late = x.value("late", false);
          bad = bad || !is_late;
          add_finding(key, kind, x.value("what", ""), is_late);
        }
      malformed += bad;
    }
    sqlite3_finalize(s);
  }

  void log_request(const std::string& path, const std::string& kind, const std::string& answer, const std::string& detail) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO request(at, path, kind, answer, detail) VALUES(?, ?, ?, ?, ?)", -1, &s, nullptr);
    const std::string at = now_text();
    for (int i = 0; const std::string* v : {&at, &path, &kind, &answer, &detail})
      sqlite3_bind_text(s, ++i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
    sqlite3_step(s);
    sqlite3_finalize(s);
  }

  struct Answer {
    int status = 200;
    std::string body;
    bool drop = false;  // close without answering
  };

  Answer answer(const std::string& key, const std::string& message, const std::string& batch_id) {
    Answer a;
    ++outcomes[key];
    a.body = make_ack(profile, key, message, batch_id);
    if (profile.ack_code.empty()) {  // no codes: HTTP statuses carry the answer (docs/uplink.md)
      static const std::map<std::string, int> kStatus = {{"ok", 200}, {"duplicate", 200}, {"busy", 503},
                                                         {"bad_credentials", 401}, {"bad_body", 400}, {"invalid", 422}};
      a.status = kStatus.at(key);
    }
    return a;
  }

  Answer handle_post(const std::string& path, const std::map<std::string, std::string>& headers, const std::string& body) {
    std::lock_guard<std::mutex> lock(mu);
    ++requests;
    OpenedRequest o = open_request(profile, creds, path, headers, body, now_ms());
    if (!o.outcome.empty()) {
      log_request(path, o.kind, o.outcome, o.error);
      refused.push_back({o.outcome, path + ": " + o.error});
      if (refused.size() > 50) refused.erase(refused.begin());
      return answer(o.outcome, o.error, "");
    }
    ++batch_requests;
    if (batch_requests <= static_cast<std::uint64_t>(opt.fail_first)) {
      log_request(path, o.kind, "busy", "fault: --fail-first");
      return answer("busy", "busy, try again later 平台繁忙", "");
    }
    std::string key;
    if (o.payload.contains(profile.dedup_field)) key = text_of(o.payload[profile.dedup_field]);
    if (key.empty()) {
      auto h = headers.find("idempotency-key");
      if (h != headers.end()) key = h->second;
    }
    if (key.empty()) {
      log_request(path, o.kind, "bad_body", "no batch key (" + profile.dedup_field + ")");
      return answer("bad_body", "no batch key " + profile.dedup_field, "");
    }
    if (auto it = answered.find(key); it != answered.end()) {
      log_request(path, o.kind, it->second == "ok" ? "duplicate" : it->second, key);
      return answer(it->second == "ok" ? "duplicate" : it->second, "batch " + key + " was stored before 已接收", key);
    }
    // validate, then store the batch, its records and its key in one transaction
    const Json& recs = o.payload[profile.records_key];
    std::vector<Json> found(recs.size());
    bool bad = false;
    exec("BEGIN IMMEDIATE");
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO record(batch_key, kind, record, findings) VALUES(?, ?, ?, ?)", -1, &s, nullptr);
    for (size_t i = 0; i < recs.size(); ++i) {
      Json f = Json::array();
      bool rec_bad = false;
      for (const auto& [what, is_late] : check(o.kind, recs[i])) {
        f.push_back({{"what", what}, {"late", is_late}});
        add_finding(key, o.kind, what, is_late);
        rec_bad = true;
      }
      const std::string late_text = absorb(o.kind, recs[i]);
      if (!late_text.empty()) {
        f.push_back({{"what", late_text}, {"late", true}});
        add_finding(key, o.kind, late_text, true);
      }
      malformed += rec_bad;
      bad = bad || rec_bad;
      const std::string rt = dump(recs[i]), ft = dump(f);
      sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 2, o.kind.data(), static_cast<int>(o.kind.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 3, rt.data(), static_cast<int>(rt.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 4, ft.data(), static_cast<int>(ft.size()), SQLITE_TRANSIENT);
      sqlite3_step(s);
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    const std::string ans = bad ? "invalid" : "ok";
    sqlite3_prepare_v2(db, "INSERT INTO batch(key, kind, received_at, records, answer, payload) VALUES(?, ?, ?, ?, ?, ?)", -1, &s, nullptr);
    const std::string at = now_text(), payload = dump(o.payload);
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, o.kind.data(), static_cast<int>(o.kind.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, at.data(), static_cast<int>(at.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, static_cast<std::int64_t>(recs.size()));
    sqlite3_bind_text(s, 5, ans.data(), static_cast<int>(ans.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, payload.data(), static_cast<int>(payload.size()), SQLITE_TRANSIENT);
    sqlite3_step(s);
    sqlite3_finalize(s);
    log_request(path, o.kind, ans, key);
    exec("COMMIT");
    answered[key] = ans;
    if (lost < static_cast<std::uint64_t>(opt.lose_answers)) {
      ++lost;
      Answer a;
      a.drop = true;
      ++outcomes["lost"];
      return a;
    }
    return answer(ans, bad ? "records invalid 数据不合规, see the platform page" : "ok", key);
  }

  Json verdict_json() const {
    std::lock_guard<std::mutex> lock(mu);
    Json v;
    v["profile"] = profile.name;
    v["requests"] = requests;
    v["batches"] = answered.size();
    Json oc = Json::object();
    for (const auto& [k, n] : outcomes) oc[k] = n;
    v["answers"] = oc;
    Json rc = Json::object();
    for (const auto& [k, n] : records) rc[k] = n;
    v["records"] = rc;
    v["malformed"] = malformed;
    v["late"] = late;
    // PL-11: positions reached the platform at most max_gap apart, per person, and were well formed
    std::uint64_t malformed_positions = 0;
    for (const Finding& f : findings)
      if (f.kind == "position" && !f.late) ++malformed_positions;
    Json pl;
    double max_gap_allowed = 0;
    if (auto it = profile.rules.find("position"); it != profile.rules.end()) max_gap_allowed = it->second.cadence_max_gap_s;
    pl["positions"] = positions;
    pl["people"] = last_position.size();
    pl["max_gap_s"] = max_gap_s;
    pl["max_gap_allowed_s"] = max_gap_allowed;
    pl["late"] = late;
    pl["malformed"] = malformed_positions;
    pl["passed"] = positions > 0 && late == 0 && malformed_positions == 0;
    v["PL-11"] = pl;
    // SO-09: every permit past signing was received with its signed status
    Json so;
    so["permits"] = Json::object();
    bool so_ok = true;
    const KindRules* pr = nullptr;
    for (const auto& [kind, r] : profile.rules)
      if (!r.permit_id.empty()) pr = &r;
    for (const auto& [id, p] : permits) {
      Json e;
      e["statuses"] = Json(std::vector<std::string>(p.statuses.begin(), p.statuses.end()));
      const bool signed_ = pr && p.statuses.count(pr->permit_signed);
      bool past = false;
      if (pr)
        for (const auto& s : pr->permit_after_signing) past = past || p.statuses.count(s);
      e["signed"] = signed_;
      e["accepted"] = pr && p.statuses.count(pr->permit_accepted) > 0;
      e["passed"] = signed_ || !past;
      so_ok = so_ok && (signed_ || !past);
      so["permits"][id] = e;
    }
    so["passed"] = permits.empty() ? Json(nullptr) : Json(so_ok);
    v["SO-09"] = so;
    Json fs_ = Json::array();
    for (const Finding& f : findings) fs_.push_back({{"batch", f.batch}, {"kind", f.kind}, {"late", f.late}, {"what", f.what}});
    v["findings"] = fs_;
    v["findings_total"] = findings_total;
    Json rf = Json::array();
    for (const auto& [o, why] : refused) rf.push_back({{"answer", o}, {"why", why}});
    v["refused"] = rf;
    return v;
  }

  Json batches_json() const {
    std::lock_guard<std::mutex> lock(mu);
    Json out = Json::array();
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT key, kind, records, answer FROM batch ORDER BY rowid", -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW)
      out.push_back({{"key", reinterpret_cast<const char*>(sqlite3_column_text(s, 0))},
                     {"kind", reinterpret_cast<const char*>(sqlite3_column_text(s, 1))},
                     {"records", sqlite3_column_int64(s, 2)},
                     {"answer", reinterpret_cast<const char*>(sqlite3_column_text(s, 3))}});
    sqlite3_finalize(s);
    return out;
  }

  std::string page() const {
    const Json v = verdict_json();
    auto verdict = [](const Json& p) {
      if (p.is_null()) return std::string("<b>—</b> nothing to judge 无数据");
      return p.get<bool>() ? std::string("<b class=ok>PASS 通过</b>") : std::string("<b class=bad>FAIL 不通过</b>");
    };
    std::string h = "<!doctype html><html lang=zh><head><meta charset=utf-8><meta http-equiv=refresh content=5>"
                    "<title>模拟园区平台 Mock park platform</title><style>body{font:14px sans-serif;margin:1.5em}"
                    "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}"
                    ".ok{color:#070}.bad{color:#b00}.late{color:#a60}</style></head><body>";
    h += "<h1>模拟园区平台 Mock park platform</h1><p>配置 Profile: <b>" + html_escape(profile.name) + "</b> · 请求 requests " +
         std::to_string(v["requests"].get<std::uint64_t>()) + " · 批次 batches stored " + std::to_string(v["batches"].get<std::uint64_t>()) + "</p>";
    h += "<h2>结论 Verdict</h2><table><tr><th>要求 Requirement</th><th>结论 Verdict</th><th>依据 Evidence</th></tr>";
    char b[300];
    std::snprintf(b, sizeof b, "%llu positions of %llu people, largest gap %.0f s (max %.0f s), %llu late, %llu malformed",
                  static_cast<unsigned long long>(v["PL-11"]["positions"].get<std::uint64_t>()),
                  static_cast<unsigned long long>(v["PL-11"]["people"].get<std::uint64_t>()), v["PL-11"]["max_gap_s"].get<double>(),
                  v["PL-11"]["max_gap_allowed_s"].get<double>(), static_cast<unsigned long long>(v["PL-11"]["late"].get<std::uint64_t>()),
                  static_cast<unsigned long long>(v["PL-11"]["malformed"].get<std::uint64_t>()));
    h += "<tr><td>PL-11 位置上报间隔 ≤ 30 s positions at most 30 s apart</td><td>" + verdict(v["PL-11"]["passed"]) + "</td><td>" + b + "</td></tr>";
    std::string permits_text;
    for (const auto& [id, p] : v["SO-09"]["permits"].items())
      permits_text += html_escape(id) + (p["signed"].get<bool>() ? " 签发✓" : " 签发✗") + (p["accepted"].get<bool>() ? " 验收✓" : "") + "; ";
    h += "<tr><td>SO-09 作业票签发、验收时上报 permits at signing and acceptance</td><td>" + verdict(v["SO-09"]["passed"]) + "</td><td>" +
         (permits_text.empty() ? "no permits 无作业票" : permits_text) + "</td></tr></table>";
    h += "<h2>已接收 Arrived</h2><table><tr><th>类别 Kind</th><th>记录 Records</th></tr>";
    for (const auto& [k, n] : v["records"].items()) h += "<tr><td>" + html_escape(k) + "</td><td>" + std::to_string(n.get<std::uint64_t>()) + "</td></tr>";
    h += "</table><h2>应答 Answers</h2><table><tr><th>应答 Answer</th><th>次数 Count</th></tr>";
    for (const auto& [k, n] : v["answers"].items()) h += "<tr><td>" + html_escape(k) + "</td><td>" + std::to_string(n.get<std::uint64_t>()) + "</td></tr>";
    h += "</table><h2>迟报与不合规 Late and malformed (" + std::to_string(v["findings_total"].get<std::uint64_t>()) +
         ")</h2><table><tr><th>批次 Batch</th><th>类别 Kind</th><th>问题 Finding</th></tr>";
    for (const auto& f : v["findings"])
      h += std::string("<tr class=") + (f["late"].get<bool>() ? "late" : "bad") + "><td>" + html_escape(f["batch"].get<std::string>()) + "</td><td>" +
           html_escape(f["kind"].get<std::string>()) + "</td><td>" + html_escape(f["what"].get<std::string>()) + "</td></tr>";
    h += "</table><h2>拒收的请求 Refused requests</h2><table><tr><th>应答 Answer</th><th>原因 Why</th></tr>";
    for (const auto& r : v["refused"])
      h += "<tr class=bad><td>" + html_escape(r["answer"].get<std::string>()) + "</td><td>" + html_escape(r["why"].get<std::string>()) + "</td></tr>";
    h += "</table><p><a href=/verdict>/verdict</a> (JSON) · <a href=/batches>/batches</a> (JSON)</p></body></html>";
    return h;
  }

  template <class Stream>
  void serve(Stream& stream) {
    beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      http::read(stream, buf, parser, ec);
      if (ec) return;
      req = parser.release();
      http::response<http::string_body> res;
      res.version(11);
      res.keep_alive(req.keep_alive());
      const std::string target(req.target());
      if (req.method() == http::verb::post) {
        std::map<std::string, std::string> headers;
        for (const auto& f : req) {
          std::string name(f.name_string());
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          headers[name] = std::string(f.value());
        }
        Answer a = handle_post(target, headers, req.body());
        if (a.drop) return;  // a lost answer: the batch is stored, the sender hears nothing
        res.result(a.status);
        res.set(http::field::content_type, "application/json; charset=utf-8");
        res.body() = a.body;
      } else if (req.method() == http::verb::get && target == "/verdict") {
        res.result(200);
        res.set(http::field::content_type, "application/json; charset=utf-8");
        res.body() = verdict_json().dump(1);
      } else if (req.method() == http::verb::get && target == "/batches") {
        res.result(200);
        res.set(http::field::content_type, "application/json; charset=utf-8");
        res.body() = batches_json().dump(1);
      } else if (req.method() == http::verb::get && (target == "/" || target == "/index.html")) {
        res.result(200);
        res.set(http::field::content_type, "text/html; charset=utf-8");
        res.body() = page();
      } else {
        res.result(404);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "not found: GET /, /verdict, /batches; POST the profile's paths\n";
      }
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || !res.keep_alive()) return;
    }
  }

  void connection(tcp::socket sock) {
    beast::error_code ec;
    if (tls) {
      ssl::stream<tcp::socket> s(std::move(sock), *tls);
      s.handshake(ssl::stream_base::server, ec);
      if (!ec) serve(s);
      s.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    } else {
      serve(sock);
      sock.shutdown(tcp::socket::shutdown_both, ec);
    }
  }
};

MockPlatform::MockPlatform(UplinkProfile profile, PlatformCredentials credentials, PlatformOptions opt)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.profile = std::move(profile);
  m.creds = std::move(credentials);
  m.opt = std::move(opt);
  if (!m.profile.cipher.empty()) (void)derive_key(m.profile, m.creds.app_secret);
  const auto colon = m.opt.listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--listen " + m.opt.listen + ": give HOST:PORT, e.g. 127.0.0.1:8443");
  beast::error_code ec;
  const auto addr = net::ip::make_address(m.opt.listen.substr(0, colon), ec);
  if (ec) throw std::runtime_error("--listen " + m.opt.listen + ": '" + m.opt.listen.substr(0, colon) + "' is not an IP address");
  int port = -1;
  try {
    port = std::stoi(m.opt.listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) throw std::runtime_error("--listen " + m.opt.listen + ": bad port");
  if (!m.opt.tls_cert.empty()) {
    m.tls.emplace(ssl::context::tls_server);
    m.tls->use_certificate_chain_file(m.opt.tls_cert, ec);
    if (ec) throw std::runtime_error("--tls " + m.opt.tls_cert + ": cannot load the certificate chain (PEM): " + ec.message());
    m.tls->use_private_key_file(m.opt.tls_key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("--tls " + m.opt.tls_key + ": cannot load the private key (PEM): " + ec.message());
  }
  m.open_store();
  m.acceptor.open(addr.is_v4() ? tcp::v4() : tcp::v6());
  m.acceptor.set_option(net::socket_base::reuse_address(true));
  m.acceptor.bind({addr, static_cast<unsigned short>(port)}, ec);
  if (ec) throw std::runtime_error("--listen " + m.opt.listen + ": cannot listen: " + ec.message());
  m.acceptor.listen();
}

MockPlatform::~MockPlatform() {
  stop();
  // joined without the lock: a finishing connection takes it to mark itself done
  std::list<std::pair<int, std::thread>> all;
  {
    std::lock_guard<std::mutex> lock(impl_->conn_mu);
    all.splice(all.end(), impl_->conns);
  }
  for (auto& [fd, th] : all)
    if (th.joinable()) th.join();
  if (impl_->db) sqlite3_close(impl_->db);
}

unsigned short MockPlatform::port() const { return impl_->acceptor.local_endpoint().port(); }

void MockPlatform::run() {
  Impl& m = *impl_;
  while (!m.stopping) {
    tcp::socket sock(m.ioc);
    beast::error_code ec;
    m.acceptor.accept(sock, ec);
    if (m.stopping) break;
    if (ec) continue;
    std::lock_guard<std::mutex> lock(m.conn_mu);
    // finished connections' threads are joined here, so they do not pile up
    for (auto it = m.conns.begin(); it != m.conns.end();) {
      if (it->first < 0 && it->second.joinable()) {
        it->second.join();
        it = m.conns.erase(it);
      } else {
        ++it;
      }
    }
    m.conns.emplace_back(sock.native_handle(), std::thread());
    auto self = std::prev(m.conns.end());
    self->second = std::thread([&m, self, s = std::move(sock)]() mutable {
      m.connection(std::move(s));
      std::lock_guard<std::mutex> l(m.conn_mu);
      self->first = -1;
    });
  }
}

void MockPlatform::stop() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  ::shutdown(m.acceptor.native_handle(), SHUT_RDWR);
  std::lock_guard<std::mutex> lock(m.conn_mu);
  for (auto& [fd, th] : m.conns)
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

nlohmann::ordered_json MockPlatform::verdict() const { return impl_->verdict_json(); }

namespace {

bool http_get(const std::string& url, std::string& body, std::string& error) {
  HttpTarget t;
  try {
    t = parse_http_url(url);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  if (t.tls) {
    error = url + ": read the verdict over http:// on the platform's host, or from its --verdict file";
    return false;
  }
  try {
    net::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(10));
    tcp::resolver res(ioc);
    s.connect(res.resolve(t.host, t.port));
    http::request<http::empty_body> req(http::verb::get, t.target, 11);
    req.set(http::field::host, t.host);
    http::write(s, req);
    beast::flat_buffer b;
    http::response<http::string_body> r;
    http::read(s, b, r);
    if (r.result_int() != 200) {
      error = url + ": HTTP " + std::to_string(r.result_int());
      return false;
    }
    body = r.body();
    return true;
  } catch (const std::exception& e) {
    error = url + ": " + e.what();
    return false;
  }
}

// The report section of a verdict whose PL-11 and SO-09 are objects; throws Json::exception on a
// field of the wrong type.
bool verdict_section(const std::string& source, const Json& v, const std::vector<PermitRecord>& permits, Json& section, std::string& md);

}  // namespace

bool platform_report_section(const std::string& source, const std::vector<PermitRecord>& permits, Json& section, std::string& md,
                             std::string& error) {
  std::string text;
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    if (!http_get(source, text, error)) return false;
  } else {
    std::ifstream in(source);
    if (!in) {
      error = source + ": cannot read the platform verdict";
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const Json v = Json::parse(text, nullptr, false);
  if (!v.is_object() || !v.contains("PL-11") || !v.contains("SO-09") || !v["PL-11"].is_object() || !v["SO-09"].is_object()) {
    error = source + ": not a platform verdict (no PL-11 / SO-09 objects)";
    return false;
  }
  // Counts must be whole numbers from 0: a fraction or 3.8e52 converted to an integer is undefined
  // behaviour (fuzz_uplink_answer, 2026-12-03), so they are checked before anything reads them.
  for (const auto& [obj, where] : {std::pair<const Json*, std::string>{&v, ""}, {&v["PL-11"], "PL-11."}})
    for (const char* key : {"batches", "malformed", "late", "positions", "people"})
      if (obj->contains(key) && !(*obj)[key].is_number_unsigned() && !((*obj)[key].is_number_integer() && (*obj)[key].get<std::int64_t>() >= 0)) {
        error = source + ": not a platform verdict: " + where + key + " must be a whole number from 0, found " + (*obj)[key].dump();
        return false;
      }
  // A field of the wrong type (a string where a count belongs, "passed" that is no boolean) is a
  // verdict this command cannot read: refused with the reason, never a crash (fuzz_uplink_answer
  // found a missing "passed" read out of range).
  try {
    return verdict_section(source, v, permits, section, md);
  } catch (const Json::exception& e) {
    error = source + ": not a platform verdict: " + e.what();
    section = Json::object();
    md.clear();
    return false;
  }
}

namespace {

bool verdict_section(const std::string& source, const Json& v, const std::vector<PermitRecord>& permits, Json& section, std::string& md) {
  section = Json::object();
  section["source"] = source;
  section["profile"] = v.value("profile", "");
  section["batches"] = v.value("batches", 0);
  section["malformed"] = v.value("malformed", 0);
  section["late"] = v.value("late", 0);
  section["PL-11"] = v["PL-11"];
  // SO-09 against the session's own permits
  Json missing = Json::array();
  const Json& got = v["SO-09"].contains("permits") ? v["SO-09"]["permits"] : Json::object();
  int checked = 0;
  for (const PermitRecord& p : permits) {
    bool signed_ = false, accepted = false;
    for (const auto& h : p.history) {
      signed_ = signed_ || h.second == "signed";
      accepted = accepted || h.second == "accepted";
    }
    if (!signed_ && !accepted) continue;
    ++checked;
    const Json* g = got.contains(p.id) ? &got[p.id] : nullptr;
    if (signed_ && !(g && g->value("signed", false))) missing.push_back(p.id + " signed 签发");
    if (accepted && !(g && g->value("accepted", false))) missing.push_back(p.id + " accepted 验收");
  }
  Json so = v["SO-09"];
  so["session_permits_checked"] = checked;
  so["missing"] = missing;
  so["passed"] = so["passed"].is_null() && checked == 0 ? Json(nullptr) : Json((so["passed"].is_null() || so["passed"].get<bool>()) && missing.empty());
  section["SO-09"] = so;
  auto verdict = [](const Json& p) { return p.is_null() ? std::string("— 无数据 nothing to judge") : p.get<bool>() ? std::string("通过 PASS") : std::string("不通过 FAIL"); };
  char b[400];
  md = "\n## 园区平台 Park platform\n\n";
  md += "平台判定来自 Verdict from `" + source + "` (profile `" + section["profile"].get<std::string>() + "`).\n\n";
  md += "| 要求 Requirement | 结论 Verdict | 依据 Evidence |\n|---|---|---|\n";
  const Json& pl = v["PL-11"];
  std::snprintf(b, sizeof b, "%llu positions of %llu people, largest gap %.0f s (max %.0f s), %llu late, %llu malformed",
                static_cast<unsigned long long>(pl.value("positions", 0)), static_cast<unsigned long long>(pl.value("people", 0)),
                pl.value("max_gap_s", 0.0), pl.value("max_gap_allowed_s", 0.0), static_cast<unsigned long long>(pl.value("late", 0)),
                static_cast<unsigned long long>(pl.value("malformed", 0)));
  md += "| PL-11 位置上报间隔 ≤ 30 s | " + verdict(pl.value("passed", Json())) + " | " + b + " |\n";
  std::string ev = std::to_string(checked) + " permits signed or accepted in this session";
  if (!missing.empty()) {
    ev += "; not received 平台未收到: ";
    for (size_t i = 0; i < missing.size(); ++i) ev += (i ? ", " : "") + missing[i].get<std::string>();
  }
  md += "| SO-09 作业票签发、验收时上报 | " + verdict(so["passed"]) + " | " + ev + " |\n";
  std::snprintf(b, sizeof b, "\n%llu batches stored, %llu malformed records, %llu late positions.\n",
                static_cast<unsigned long long>(v.value("batches", 0)), static_cast<unsigned long long>(v.value("malformed", 0)),
                static_cast<unsigned long long>(v.value("late", 0)));
  md += b;
  return true;
}

}  // namespace

}  // namespace planttwin::uplink
