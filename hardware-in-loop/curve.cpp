#include "hardware-in-loop/curve.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace planttwin::hil {

namespace fs = std::filesystem;

namespace {

// the quoted value of `key = "..."` on a line, "" when the line is not that key
std::string value_of(const std::string& line, const std::string& key) {
  const size_t k = line.find(key);
  if (k == std::string::npos) return "";
  const size_t eq = line.find('=', k + key.size());
  if (eq == std::string::npos) return "";
  const size_t q1 = line.find('"', eq);
  const size_t q2 = q1 == std::string::npos ? q1 : line.find('"', q1 + 1);
  if (q2 == std::string::npos) return "";
  return line.substr(q1 + 1, q2 - q1 - 1);
}

}  // namespace

bool read_zcert(const std::string& path, CurveCert& out, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = path + ": cannot read the certificate";
    return false;
  }
  out = CurveCert{};
  for (std::string line; std::getline(f, line);) {
    // comments are whole lines: Z85 keys may contain '#'
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (std::string v = value_of(line, "public-key"); !v.empty()) out.public_z85 = v;
    if (std::string v = value_of(line, "secret-key"); !v.empty()) out.secret_z85 = v;
  }
  if (out.public_z85.size() != 40 && out.secret_z85.size() != 40) {
    error = path + ": no 40-character Z85 public-key or secret-key (zcert format: curve / public-key = \"...\")";
    return false;
  }
  std::uint8_t raw[32];
  for (const std::string* k : {&out.public_z85, &out.secret_z85})
    if (!k->empty() && (k->size() != 40 || !zmq_z85_decode(raw, k->c_str()))) {
      error = path + ": a key is not 40 characters of Z85";
      return false;
    }
  return true;
}

bool write_zcert(const std::string& path, const CurveCert& c, std::string& error) {
  std::ofstream f(path);
  if (!f) {
    error = path + ": cannot write the certificate";
    return false;
  }
  f << "#   ****  planttwin CURVE certificate (zcert format)  ****\n"
    << "metadata\ncurve\n    public-key = \"" << c.public_z85 << "\"\n";
  if (!c.secret_z85.empty()) f << "    secret-key = \"" << c.secret_z85 << "\"\n";
  return static_cast<bool>(f);
}

bool read_allowed_clients(const std::string& dir, std::set<std::string>& keys, std::string& error) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = dir + ": no such folder of allowed client certificates";
    return false;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    CurveCert c;
    if (!read_zcert(p.string(), c, error)) return false;
    if (c.public_z85.size() != 40) {
      error = p.string() + ": no public-key";
      return false;
    }
    std::string raw(32, '\0');
    zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), c.public_z85.c_str());
    keys.insert(raw);
  }
  return true;
}

CurveCert make_curve_cert() {
  char pub[41], sec[41];
  zmq_curve_keypair(pub, sec);
  return {pub, sec};
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::set<std::string> allowed_keys) : ctx_(ctx), keys_(std::move(allowed_keys)) {}

ZapHandler::~ZapHandler() { stop(); }

bool ZapHandler::start(std::string& error) {
  try {
    rep_ = zmq::socket_t(ctx_, zmq::socket_type::rep);
    rep_.set(zmq::sockopt::linger, 0);
    rep_.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    error = std::string("ZAP handler: ") + e.what();
    return false;
  }
  thread_ = std::thread([this] { serve(); });
  return true;
}

void ZapHandler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

// RFC 27: request [version, request id, domain, address, identity, mechanism, credentials...],
// reply [version, request id, status code, status text, user id, metadata]
void ZapHandler::serve() {
  while (!stop_) {
    zmq::pollitem_t item{rep_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) <= 0) continue;
      std::vector<zmq::message_t> req;
      while (true) {
        zmq::message_t m;
        if (!rep_.recv(m, zmq::recv_flags::none)) break;
        const bool more = m.more();
        req.push_back(std::move(m));
        if (!more) break;
      }
      const bool curve = req.size() >= 7 && req[5].to_string() == "CURVE" && req[6].size() == 32;
      const bool ok = curve && keys_.count(req[6].to_string()) > 0;
      (ok ? allowed_ : denied_)++;
      const std::string request_id = req.size() > 1 ? req[1].to_string() : "";
      const std::vector<std::string> reply = {"1.0", request_id, ok ? "200" : "400", ok ? "OK" : "client key not allowed",
                                              ok ? "client" : "", ""};
      for (size_t i = 0; i < reply.size(); ++i)
        rep_.send(zmq::buffer(reply[i]), i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      break;  // context terminated
    }
  }
  rep_.close();
}

}  // namespace planttwin::hil
