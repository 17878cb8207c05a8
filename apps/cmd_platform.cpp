// planttwin platform --listen 127.0.0.1:PORT --profile NAME_OR_FILE --credentials FILE
// [--store DIR] [--tls CERT KEY]: a mock park platform (docs/platform.md) that decrypts, checks
// the credentials, validates and stores what the uplink sends, with a bilingual page and a JSON
// verdict (PL-11, SO-09). Exit 0 at SIGINT / SIGTERM, 2 bad input.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "apps/commands.h"
#include "hardware-in-loop/uplink/platform.h"

namespace planttwin::cli {

namespace {

struct PlatformArgs {
  std::string listen = "127.0.0.1:8443", profile, credentials, store = "platform-store";
  std::vector<std::string> tls;
  std::string verdict;  // --verdict FILE: the JSON verdict written here at the end
  int fail_first = 0, lose_answers = 0;
};

int cmd_platform(const PlatformArgs& a) {
  uplink::UplinkProfile profile;
  std::string err;
  if (!uplink::load_uplink_profile(a.profile, profile, err)) {
    std::cerr << "planttwin platform: " << err << "\n";
    return kExitBadInput;
  }
  uplink::PlatformCredentials creds;
  if (!a.credentials.empty() && !uplink::load_credentials(a.credentials, creds, err)) {
    std::cerr << "planttwin platform: " << err << "\n";
    return kExitBadInput;
  }
  if (a.credentials.empty() && (!profile.cipher.empty() || !profile.signature.empty())) {
    std::cerr << "planttwin platform: profile " << profile.name << " encrypts or signs: give --credentials FILE (app_id, app_secret)\n";
    return kExitBadInput;
  }
  uplink::PlatformOptions o;
  o.listen = a.listen;
  o.store_dir = a.store;
  if (!a.tls.empty()) {
    o.tls_cert = a.tls[0];
    o.tls_key = a.tls[1];
  }
  o.fail_first = a.fail_first;
  o.lose_answers = a.lose_answers;
  std::unique_ptr<uplink::MockPlatform> p;
  try {
    p = std::make_unique<uplink::MockPlatform>(profile, creds, o);
  } catch (const std::exception& e) {
    std::cerr << "planttwin platform: " << e.what() << "\n";
    return kExitBadInput;
  }
  boost::asio::io_context sig_ioc;
  boost::asio::signal_set signals(sig_ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { p->stop(); });
  std::thread sig_thread([&] { sig_ioc.run(); });
  const std::string host = a.listen.substr(0, a.listen.rfind(':'));
  std::cout << "planttwin platform: 模拟园区平台 mock park platform, profile " << profile.name << ", on "
            << (o.tls_cert.empty() ? "http://" : "https://") << host << ":" << p->port() << " (page /, verdict /verdict), store "
            << a.store << std::endl;
  p->run();
  sig_ioc.stop();
  sig_thread.join();
  const auto v = p->verdict();
  if (!a.verdict.empty()) std::ofstream(a.verdict) << v.dump(1) << "\n";
  std::cout << "planttwin platform: " << v["batches"].get<std::uint64_t>() << " batches stored, " << v["malformed"].get<std::uint64_t>()
            << " malformed records, " << v["late"].get<std::uint64_t>() << " late positions\n";
  return kExitPass;
}

}  // namespace

std::vector<Subcommand> add_platform_commands(CLI::App& app) {
  auto a = std::make_shared<PlatformArgs>();
  CLI::App* c = app.add_subcommand("platform", "Mock park platform: decrypt, check, validate and store what the uplink sends (docs/platform.md; exit 0 at SIGTERM, 2 bad input)");
  c->add_option("--listen", a->listen, "HOST:PORT to serve (port 0: pick one, printed at start)")->capture_default_str();
  c->add_option("--profile", a->profile, "Platform profile: aq3064-sm4, plain or a YAML file (docs/platform.md)")->required();
  c->add_option("--credentials", a->credentials, "YAML file with app_id and app_secret (the enterprise's, as the uplink's)")->check(CLI::ExistingFile);
  c->add_option("--store", a->store, "Folder of the store (platform.sqlite; kept between runs)")->capture_default_str();
  c->add_option("--tls", a->tls, "Serve https with this certificate chain and private key (PEM files)")->expected(2)->check(CLI::ExistingFile);
  c->add_option("--verdict", a->verdict, "Write the JSON verdict (PL-11, SO-09) to this file when stopped");
  c->add_option("--fail-first", a->fail_first, "Fault for drills: answer the first N batch requests with the busy code")->check(CLI::Range(0, 1000000));
  c->add_option("--lose-answers", a->lose_answers, "Fault for drills: store the first N new batches and close without answering")->check(CLI::Range(0, 1000000));
  return {{c, [a] { return cmd_platform(*a); }}};
}

}  // namespace planttwin::cli
