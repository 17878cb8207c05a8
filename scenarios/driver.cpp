#include "scenarios/driver.h"

#include <algorithm>
#include <numeric>

namespace planttwin {

double floor_surface(const Site& site, const std::string& floor) {
  const Floor* f = site.find_floor(floor);
  if (!f) return 0;
  if (f->z0 >= 0) return f->z0;
  return f->z1 > 0 ? 0 : f->z0;  // a band that straddles the ground stands on the ground
}

namespace {

std::vector<MotionPersonDef> motion_defs(const Scenario& sc) {
  std::vector<MotionPersonDef> defs;
  for (const PersonDef& p : sc.people)
    defs.push_back({{p.at.x, p.at.y}, p.at.z, p.floor, floor_surface(sc.site, p.floor)});
  return defs;
}

}  // namespace

ScriptDriver::ScriptDriver(const Scenario& sc, const Engine& engine)
    : sc_(sc), engine_(engine), motion_(motion_defs(sc)) {
  order_.resize(sc.people.size());
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) {
    return sc.people[static_cast<size_t>(a)].id < sc.people[static_cast<size_t>(b)].id;
  });
  for (size_t i = 0; i < sc.people.size(); ++i) person_of_[sc.people[i].id] = static_cast<int>(i);
  tag_on_.assign(sc.people.size(), 1);
  tag_idx_.assign(sc.people.size(), -1);
  for (size_t i = 0; i < sc.people.size(); ++i)
    if (sc.people[i].tag) tag_idx_[i] = engine.tag_index(*sc.people[i].tag);
  script_.resize(sc.script.size());
  std::iota(script_.begin(), script_.end(), size_t{0});
  std::stable_sort(script_.begin(), script_.end(), [&](size_t a, size_t b) { return sc.script[a].t < sc.script[b].t; });
}

std::optional<Micros> ScriptDriver::next_action() const {
  if (next_ >= script_.size()) return std::nullopt;
  return sc_.script[script_[next_]].t;
}

void ScriptDriver::play_until(Micros until, const std::function<void(Input)>& sink) {
  while (next_ < script_.size() && sc_.script[script_[next_]].t <= until) play(sc_.script[script_[next_++]], sink);
}

void ScriptDriver::play_all(const std::function<void(Input)>& sink) {
  while (next_ < script_.size()) play(sc_.script[script_[next_++]], sink);
}

void ScriptDriver::play(const ScriptAction& a, const std::function<void(Input)>& sink) {
  using K = ScriptAction::Kind;
  std::vector<int> who;
  for (const std::string& w : a.who) who.push_back(person_of_.at(w));
  const double surface = a.floor ? floor_surface(sc_.site, *a.floor) : 0;
  switch (a.kind) {
    case K::go_to:
    case K::walk: {
      std::vector<Vec2> path;
      std::optional<double> z;
      for (const Point3& p : a.path) path.push_back({p.x, p.y}), z = p.z;
      for (int i : who) motion_.walk(i, a.t, path, a.speed, a.floor, surface, z);
      break;
    }
    case K::place:
      for (int i : who) motion_.place(i, a.t, {a.path.at(0).x, a.path.at(0).y}, a.floor, surface, a.path.at(0).z);
      break;
    case K::sos:
      for (int i : who) sink({a.t, 0, SosInput{tag_idx_[static_cast<size_t>(i)]}});
      break;
    case K::tag_off:
    case K::tag_on:
      for (int i : who) tag_on_[static_cast<size_t>(i)] = a.kind == K::tag_on;
      break;
    case K::battery:
      for (int i : who) {
        TagStatusInput s;
        s.tag = tag_idx_[static_cast<size_t>(i)];
        s.battery = a.battery;
        sink({a.t, 0, s});
      }
      break;
    case K::gate:
      for (const std::string& w : a.who) sink({a.t, 0, GateInput{engine_.person_index(w), a.gate_in, a.gate_id}});
      break;
    case K::permit:
      sink({a.t, 0, std::make_shared<const PermitCommand>(a.permit)});
      break;
    case K::alarm:
      sink({a.t, 0, std::make_shared<const AlarmAction>(a.alarm)});
      break;
  }
}

FixInput ScriptDriver::true_fix(int person, const TruthPose& pose) const {
  FixInput f;
  f.tag = tag_index(person);
  f.x = pose.p.x;
  f.y = pose.p.y;
  f.z = pose.z;
  f.floor = engine_.floor_index(pose.floor);
  return f;
}

}  // namespace planttwin
