#include "hardware-in-loop/wire.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "engine/permit_vocabulary.h"
#include "scenarios/driver.h"

namespace planttwin::hil {

namespace {

using json = nlohmann::json;

constexpr const char* kTopicNames[] = {"fix", "range", "tdoa", "sos", "tag_status", "gate", "mark", "permit", "ack"};

// Permit commands use the scenario's vocabulary: engine/permit_vocabulary.h, shared with the loader.
const std::vector<std::string>& kPermitActions = permit_vocabulary::actions();
const std::vector<std::string>& kPermitTypes = permit_vocabulary::types();
const std::vector<std::string>& kGrades = permit_vocabulary::grades();

// Thrown inside the decoder only; decode() turns it into a DecodeError.
struct Reject {
  std::string reason, detail;
};
[[noreturn]] void reject(std::string reason, std::string detail) { throw Reject{std::move(reason), std::move(detail)}; }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Field access on the message object, with the spec's errors.
class Fields {
 public:
  Fields(const json& j, const DecodeContext& ctx) : j_(j), ctx_(ctx) {}

  const json* get(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& req(const char* key) const {
    const json* v = get(key);
    if (!v) reject("missing_field", std::string("missing field '") + key + "'");
    return *v;
  }
  double number(const char* key, const json& v) const {
    if (!v.is_number()) reject("bad_field", std::string("field '") + key + "' must be a number, found " + v.type_name());
    const double d = v.get<double>();
    if (!std::isfinite(d)) reject("not_finite", std::string("field '") + key + "' is not a finite number");
    return d;
  }
  double number(const char* key) const { return number(key, req(key)); }
  std::optional<double> opt_number(const char* key) const {
    const json* v = get(key);
    if (!v || v->is_null()) return std::nullopt;
    return number(key, *v);
  }
  std::string text(const char* key, const json& v, bool nonempty = true) const {
    if (!v.is_string()) reject("bad_field", std::string("field '") + key + "' must be a string, found " + v.type_name());
    std::string s = v.get<std::string>();
    if (nonempty && s.empty()) reject("bad_field", std::string("field '") + key + "' must not be empty");
    return s;
  }
  std::string text(const char* key) const { return text(key, req(key)); }
  std::string one_of(const char* key, const json& v, const std::vector<std::string>& allowed) const {
    std::string s = v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : text(key, v);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      reject("bad_field", std::string("field '") + key + "' is '" + s + "'; allowed: " + join(allowed));
    return s;
  }
  bool boolean(const char* key, const json& v) const {
    if (!v.is_boolean()) reject("bad_field", std::string("field '") + key + "' must be true or false, found " + v.type_name());
    return v.get<bool>();
  }
  std::int64_t ts() const {
    const double d = number("ts");
    if (std::fabs(d) > 1e15) reject("bad_field", "field 'ts' is not a Unix time in milliseconds");
    return static_cast<std::int64_t>(std::llround(d));
  }
  int tag() const {
    const std::string s = text("tag");
    const int t = ctx_.engine->tag_index(s);
    if (t < 0) reject("unknown_tag", "unknown tag '" + s + "'");
    return t;
  }
  std::string person(const char* key, const json& v) const {
    const std::string s = text(key, v);
    if (ctx_.engine->person_index(s) < 0) reject("unknown_person", std::string("field '") + key + "': unknown person '" + s + "'");
    return s;
  }
  std::vector<std::string> persons(const char* key, const json& v) const {
    if (!v.is_array()) reject("bad_field", std::string("field '") + key + "' must be a list of person ids");
    std::vector<std::string> out;
    for (const json& e : v) out.push_back(person(key, e));
    return out;
  }
  std::vector<std::string> strings(const char* key, const json& v) const {
    if (!v.is_array()) reject("bad_field", std::string("field '") + key + "' must be a list of strings");
    std::vector<std::string> out;
    for (const json& e : v) out.push_back(text(key, e));
    return out;
  }
  // a floor id as a string or an integer ("1" and 1 are the same floor)
  std::string floor(const char* key, const json& v) const {
    std::string s;
    if (v.is_number_integer()) s = std::to_string(v.get<std::int64_t>());
    else if (v.is_string()) s = v.get<std::string>();
    else reject("bad_field", std::string("field '") + key + "' must be a floor id (string or integer), found " + v.type_name());
    if (ctx_.engine->floor_index(s) < 0) reject("unknown_floor", "unknown floor '" + s + "'");
    return s;
  }
  int anchor(const char* key) const {
    const std::string s = text(key);
    const auto& a = ctx_.site->anchors;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].id == s) return static_cast<int>(i);
    reject("unknown_anchor", "unknown anchor '" + s + "'");
  }
  // permit times: seconds since the start (number), a duration ("90s", "-2h"), or ISO 8601
  Micros time(const char* key, const json& v) const {
    if (v.is_number()) return from_seconds(number(key, v));
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      std::int64_t unix_s = 0;
      int off = 0;
      Micros d = 0;
      if (parse_datetime(s, unix_s, off)) return (unix_s * 1000 - ctx_.start_unix_ms) * kMillisecond;
      if (!s.empty() && s[0] == '-' && parse_duration(s.substr(1), d)) return -d;
      if (parse_duration(s, d)) return d;
    }
    reject("bad_field", std::string("field '") + key + "' must be a time since the session start (seconds, '90s', '-2h') or an ISO 8601 date-time");
  }
  std::vector<Vec2> area(const char* key, const json& v) const {
    if (!v.is_array() || v.size() < 3) reject("bad_field", std::string("field '") + key + "' must be a polygon of at least 3 points [x, y]");
    std::vector<Vec2> pts;
    for (const json& p : v) {
      if (!p.is_array() || p.size() < 2 || p.size() > 3) reject("bad_field", std::string("field '") + key + "': a point is [x, y] or [x, y, z]");
      pts.push_back({number(key, p[0]), number(key, p[1])});
      if (p.size() == 3) (void)number(key, p[2]);
    }
    return pts;
  }

 private:
  const json& j_;
  const DecodeContext& ctx_;
};

void decode_permit(const Fields& f, PermitCommand& c) {
  c.action = f.one_of("action", f.req("action"), kPermitActions);
  c.id = f.text("id");
  // what each command cannot do without (scenario-v1 "Special work"), as the loader requires
  for (const std::string& k : permit_vocabulary::required_fields(c.action)) (void)f.req(k.c_str());

  if (const json* x = f.get("by")) c.by = f.person("by", *x);
  if (const json* x = f.get("reservation")) c.reservation = f.text("reservation", *x);
  if (const json* x = f.get("type")) c.type = f.one_of("type", *x, kPermitTypes);
  if (const json* x = f.get("grade")) c.grade = f.one_of("grade", *x, kGrades);
  if (const json* x = f.get("area")) c.area = f.area("area", *x);
  if (const json* x = f.get("floor")) c.floor = f.floor("floor", *x);
  if (const json* x = f.get("workers")) c.workers = f.persons("workers", *x);
  if (const json* x = f.get("guardian")) c.guardian = f.person("guardian", *x);
  if (const json* x = f.get("approver")) c.approver = f.person("approver", *x);
  if (const json* x = f.get("linked")) c.linked = f.strings("linked", *x);
  if (const json* x = f.get("from")) c.from = f.time("from", *x);
  if (const json* x = f.get("to")) c.to = f.time("to", *x);
  if (c.from && c.to && *c.to < *c.from) reject("bad_field", "'to' lies before 'from'");
  if (const json* x = f.get("urgent")) c.urgent = f.boolean("urgent", *x);
  auto nonneg = [&](const char* key, const json& v) {
    const double d = f.number(key, v);
    if (d < 0) reject("bad_field", std::string("field '") + key + "' must not be negative");
    return d;
  };
  if (const json* x = f.get("load_t")) c.load_t = nonneg("load_t", *x);
  if (const json* x = f.get("height_m")) c.height_m = nonneg("height_m", *x);
  if (const json* x = f.get("hazard_factors")) c.hazard_factors = f.strings("hazard_factors", *x);
  if (const json* x = f.get("blind")) c.blind = f.one_of("blind", *x, permit_vocabulary::blind_operations());
  if (const json* x = f.get("readings")) {
    if (!x->is_object()) reject("bad_field", "field 'readings' must be an object");
    auto pct = [&](const char* key, const json& v) {
      const double d = f.number(key, v);
      if (d < 0 || d > 100) reject("bad_field", std::string("field 'readings.") + key + "' must lie in [0, 100]");
      return d;
    };
    for (const auto& [k, v] : x->items()) {
      if (k == "flammable_volpct") c.readings.flammable_volpct = pct("flammable_volpct", v);
      else if (k == "gas_lel_pct") c.readings.gas_lel_pct = pct("gas_lel_pct", v);
      else if (k == "o2_volpct") c.readings.o2_volpct = pct("o2_volpct", v);
      else if (k == "toxic") {
        if (!v.is_object()) reject("bad_field", "field 'readings.toxic' must be an object {substance: ppm}");
        for (const auto& [s, ppm] : v.items()) c.readings.toxic[s] = nonneg("readings.toxic", ppm);
      } else {
        reject("bad_field", "unknown reading 'readings." + k + "' (allowed: " + join(permit_vocabulary::reading_keys()) + ")");
      }
    }
  }
  if (const json* x = f.get("signed_by")) c.signed_by = f.persons("signed_by", *x);
  if (const json* x = f.get("note")) c.note = f.text("note", *x, false);
}

void decode_body(Topic topic, const json& j, const DecodeContext& ctx, Decoded& out) {
  if (!j.is_object()) reject("bad_json", std::string("the body must be a JSON object, found ") + j.type_name());
  Fields f(j, ctx);
  const json* v = f.get("v");
  if (!v) reject("missing_field", "missing field 'v' (protocol version, 1)");
  if (!v->is_number_integer() || v->get<std::int64_t>() != 1) reject("bad_version", "protocol version 'v' must be 1, found " + v->dump());
  out.topic = topic;
  out.ts_ms = f.ts();
  switch (topic) {
    case Topic::fix: {
      FixInput fx;
      fx.tag = f.tag();
      fx.x = f.number("x");
      fx.y = f.number("y");
      const std::optional<double> z = f.opt_number("z");
      (void)f.opt_number("quality");
      std::string floor;
      if (const json* x = f.get("floor"); x && !x->is_null()) floor = f.floor("floor", *x);
      fx.floor = floor.empty() ? -1 : ctx.engine->floor_index(floor);
      // no z: the tag is worn at 1.2 m above the floor's surface
      fx.z = z ? *z : (floor.empty() ? 0.0 : floor_surface(*ctx.site, floor)) + 1.2;
      out.input.body = fx;
      break;
    }
    case Topic::range: {
      out.range.tag = f.tag();
      out.range.anchor = f.anchor("anchor");
      out.range.d = f.number("d");
      if (out.range.d < 0) reject("bad_field", "field 'd' must not be negative");
      out.range.fp_dbm = f.opt_number("fp_dbm").value_or(0);
      out.range.rx_dbm = f.opt_number("rx_dbm").value_or(0);
      break;
    }
    case Topic::tdoa: {
      out.tdoa.tag = f.tag();
      out.tdoa.anchor_a = f.anchor("anchor_a");
      out.tdoa.anchor_b = f.anchor("anchor_b");
      if (out.tdoa.anchor_a == out.tdoa.anchor_b) reject("bad_field", "'anchor_a' and 'anchor_b' are the same anchor");
      out.tdoa.dd = f.number("dd");
      break;
    }
    case Topic::sos:
      out.input.body = SosInput{f.tag()};
      break;
    case Topic::tag_status: {
      TagStatusInput s;
      s.tag = f.tag();
      s.battery = f.opt_number("battery");
      if (s.battery && (*s.battery < 0 || *s.battery > 1)) reject("bad_field", "field 'battery' must lie in [0, 1]");
      if (const json* x = f.get("online"); x && !x->is_null()) s.online = f.boolean("online", *x);
      out.input.body = s;
      break;
    }
    case Topic::gate: {
      GateInput g;
      const std::string p = f.person("person", f.req("person"));
      g.person = ctx.engine->person_index(p);
      g.in = f.one_of("direction", f.req("direction"), {"in", "out"}) == "in";
      if (const json* x = f.get("gate"); x && !x->is_null()) g.gate_id = f.text("gate", *x, false);
      out.input.body = g;
      break;
    }
    case Topic::mark: {
      out.mark.tag = f.tag();
      const std::string p = f.text("point");
      const auto& sp = ctx.site->survey_points;
      for (size_t i = 0; i < sp.size(); ++i)
        if (sp[i].id == p) out.mark.point = static_cast<int>(i);
      if (out.mark.point < 0) reject("unknown_point", "unknown survey point '" + p + "'");
      break;
    }
    case Topic::permit: {
      auto c = std::make_shared<PermitCommand>();
      decode_permit(f, *c);
      out.input.body = std::shared_ptr<const PermitCommand>(std::move(c));
      break;
    }
    case Topic::ack: {
      auto a = std::make_shared<AlarmAction>();
      a->alarm_id = f.text("alarm_id");
      const std::string k = f.one_of("action", f.req("action"), {"ack", "handle", "close"});
      a->kind = k == "ack" ? AlarmAction::Kind::ack : k == "handle" ? AlarmAction::Kind::handle : AlarmAction::Kind::close;
      a->by = f.text("by");
      if (const json* x = f.get("note"); x && !x->is_null()) a->note = f.text("note", *x, false);
      out.input.body = std::shared_ptr<const AlarmAction>(std::move(a));
      break;
    }
  }
}

}  // namespace

const char* to_string(Topic t) { return kTopicNames[static_cast<int>(t)]; }

std::optional<Topic> parse_topic(std::string_view s) {
  for (int i = 0; i < 9; ++i)
    if (s == kTopicNames[i]) return static_cast<Topic>(i);
  return std::nullopt;
}

bool decode(std::string_view topic, std::string_view body, const DecodeContext& ctx, Decoded& out, DecodeError& err) {
  try {
    const std::optional<Topic> t = parse_topic(topic);
    if (!t) reject("unknown_topic", "unknown topic '" + std::string(topic.substr(0, 64)) + "'");
    if (body.size() > kMaxBodyBytes) reject("body_too_large", "body of " + std::to_string(body.size()) + " bytes (at most 65536)");
    const json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded()) reject("bad_json", "the body is not valid JSON");
    out = Decoded{};
    decode_body(*t, j, ctx, out);
    return true;
  } catch (const Reject& r) {
    err.reason = r.reason;
    err.detail = r.detail;
  } catch (const std::exception& e) {  // e.g. invalid UTF-8 met while copying a string
    err.reason = "bad_json";
    err.detail = e.what();
  }
  return false;
}

std::int64_t unix_ms(std::int64_t start_unix_ms, Micros t) {
  const Micros ms = t >= 0 ? t / kMillisecond : -((-t + kMillisecond - 1) / kMillisecond);
  return start_unix_ms + ms;
}

void encode_output(const Engine& engine, const Output& o, std::int64_t start_unix_ms, std::vector<WireMessage>& out) {
  const std::int64_t ts = unix_ms(start_unix_ms, o.t);
  auto emit = [&](const char* topic, const json& j) { out.push_back({topic, j.dump(-1, ' ', false, json::error_handler_t::replace)}); };
  if (const auto* a = std::get_if<AlarmOutput>(&o.body)) {
    const Alarm& al = engine.alarms()[static_cast<size_t>(a->alarm)];
    const AlarmEvent& ev = al.events[static_cast<size_t>(a->event)];
    json j = {{"v", 1}, {"ts", ts}, {"id", al.id}, {"event", to_string(ev.kind)}, {"type", to_string(al.type)}};
    if (ev.level != AlarmLevel::none) j["level"] = to_string(ev.level);
    if (al.code != Aq2Code::none) j["code"] = to_string(al.code);
    j["who"] = al.who;
    if (!al.zone.empty()) j["zone"] = al.zone;
    if (!al.permit.empty()) j["permit"] = al.permit;
    j["x"] = al.pos.x;
    j["y"] = al.pos.y;
    j["floor"] = al.floor;
    // planttwin additions
    if (!al.of.empty()) j["of"] = al.of;
    if (!ev.by.empty()) j["by"] = ev.by;
    if (!ev.note.empty()) j["note"] = ev.note;
    emit("alarm", j);
  } else if (const auto* cc = std::get_if<CameraCallOutput>(&o.body)) {
    emit("camera_call", {{"v", 1}, {"ts", ts}, {"alarm_id", cc->alarm_id}, {"cameras", cc->cameras}});
  } else if (const auto* w = std::get_if<WarnOutput>(&o.body)) {
    emit("warn", {{"v", 1}, {"ts", ts}, {"tag", w->tag}, {"alarm_id", w->alarm_id}, {"reason", w->reason}});
  } else if (const auto* z = std::get_if<ZoneCountOutput>(&o.body)) {
    json by = json::object();
    for (int c = 0; c < kCategoryCount; ++c) by[to_string(static_cast<Category>(c))] = z->by_category[static_cast<size_t>(c)];
    emit("zone_count", {{"v", 1}, {"ts", ts}, {"zone", engine.site().zones[static_cast<size_t>(z->zone)].id}, {"count", z->count}, {"by_category", by}});
  } else if (const auto* g = std::get_if<GatheringOutput>(&o.body)) {
    emit("gathering", {{"v", 1}, {"ts", ts}, {"id", g->alarm_id}, {"level", g->level}, {"members", g->members},
                       {"center", {g->center.x, g->center.y}}, {"radius", g->radius}, {"floor", g->floor}});
  } else if (const auto* r = std::get_if<RefusalOutput>(&o.body)) {
    emit("refusal", {{"v", 1}, {"ts", ts}, {"permit", r->permit}, {"action", r->action}, {"codes", r->codes}});
  } else if (const auto* s = std::get_if<StatusOutput>(&o.body)) {
    // planttwin addition: a permit's or reservation's new status
    emit("permit_status", {{"v", 1}, {"ts", ts}, {"id", s->id}, {"status", s->status}});
  }
}

WireMessage encode_error(std::int64_t ts_ms, const DecodeError& e, std::string_view topic) {
  const json j = {{"v", 1}, {"ts", ts_ms}, {"reason", e.reason}, {"topic", std::string(topic.substr(0, 64))}, {"detail", e.detail}};
  return {"error", j.dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace planttwin::hil
