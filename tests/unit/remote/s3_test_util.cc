// SPDX-License-Identifier: Apache-2.0
// moto_server start-up (a GoogleTest environment), the gateway's coordinates, and the fault proxy.
#include "unit/remote/s3_test_util.hh"

#include "io/http_codec.hh"
#include "io/loop.hh"
#include "io/ops.hh"
#include "io/sync_wait.hh"
#include "remote/credentials.hh"
#include "remote/http_client.hh"
#include "remote/s3_xml.hh"
#include "remote/sigv4.hh"

#include <fmt/format.h>

#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

namespace tv::testing {

namespace {

std::string shell_output(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return out;
    }
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
        out.append(buf, n);
    }
    ::pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    return out;
}

uint16_t free_port() {
    auto l = io::listen_tcp("127.0.0.1", 0);
    return l ? l->port : 0;
}

bool can_connect(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
}

/// One IAM query call (signed; moto routes it to IAM by the credential scope).
io::task<io::result<io::http_client_response>> iam_call(uint16_t port, std::string form) {
    remote::http_client client;
    remote::sigv4_signer signer("us-east-1", "iam");
    remote::aws_credentials setup{"setup", "setup", ""};  // auth is still off
    auto out = remote::signed_form_post(signer, fmt::format("127.0.0.1:{}", port), form, setup);
    remote::http_endpoint endpoint{"127.0.0.1", port};
    auto r = co_await client.send(std::move(endpoint), std::move(out));
    co_return r;
}

io::task<std::string> create_user_and_key(moto_server* server) {
    auto user = co_await iam_call(server->port, "Action=CreateUser&UserName=tv&Version=2010-05-08");
    if (!user || user->status != 200) {
        co_return "CreateUser failed";
    }
    std::string policy = remote::uri_encode(
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})", false);
    auto put_policy = co_await iam_call(
        server->port, "Action=PutUserPolicy&UserName=tv&PolicyName=all&Version=2010-05-08&PolicyDocument=" + policy);
    if (!put_policy || put_policy->status != 200) {
        co_return "PutUserPolicy failed";
    }
    // moto's checker wrongly rejects secrets with + = % , : in them: draw until one has none.
    for (int round = 0; round < 50; ++round) {
        auto key = co_await iam_call(server->port, "Action=CreateAccessKey&UserName=tv&Version=2010-05-08");
        if (!key || key->status != 200) {
            co_return "CreateAccessKey failed";
        }
        std::string id = remote::xml::find(key->body, "AccessKeyId").value_or("");
        std::string secret = remote::xml::find(key->body, "SecretAccessKey").value_or("");
        if (secret.find_first_of("+=%,:") == std::string::npos && !id.empty()) {
            server->access_key = id;
            server->secret_key = secret;
            co_return std::string();
        }
        auto removed =
            co_await iam_call(server->port, "Action=DeleteAccessKey&UserName=tv&Version=2010-05-08&AccessKeyId=" + id);
        (void)removed;
    }
    co_return "no usable access key after 50 tries";
}

class moto_environment final : public ::testing::Environment {
public:
    void SetUp() override {
        moto_server& m = moto();
        std::string command = shell_output("command -v moto_server");
        if (command.empty()) {
            if (shell_output("python3.11 -c 'import moto.server' 2>/dev/null && echo yes") == "yes") {
                command = "python3.11 -m moto.server";
            } else {
                m.skip_reason = "moto_server is not installed (neither moto_server nor python3.11 -m moto.server)";
                return;
            }
        }
        m.port = free_port();
        std::string line = fmt::format("exec {} -H 127.0.0.1 -p {} >/dev/null 2>&1", command, m.port);
        pid_t pid = ::fork();
        if (pid == 0) {
            ::setpgid(0, 0);
            ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        m.pid = pid;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!can_connect(m.port)) {
            if (std::chrono::steady_clock::now() > deadline || ::waitpid(pid, nullptr, WNOHANG) == pid) {
                m.skip_reason = "moto_server did not start";
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        io::loop l;
        std::string failure = io::sync_wait(l, create_user_and_key(&m));
        if (!failure.empty()) {
            m.skip_reason = "moto IAM set-up: " + failure;
            return;
        }
        if (!m.set_auth(true)) {
            m.skip_reason = "could not turn moto's signature checking on";
            return;
        }
        m.running = true;
    }

    void TearDown() override {
        moto_server& m = moto();
        if (m.pid > 0) {
            // Its process group: the pyenv shim and the python under it, which may outlive the
            // shim (it is reparented) and finish a request first; SIGKILL whatever is left.
            ::kill(-m.pid, SIGTERM);
            ::waitpid(m.pid, nullptr, 0);
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (::kill(-m.pid, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            ::kill(-m.pid, SIGKILL);
            m.pid = -1;
        }
    }
};

[[maybe_unused]] auto* const registered = ::testing::AddGlobalTestEnvironment(new moto_environment);

// ---- the proxy -------------------------------------------------------------------------------

std::span<const std::byte> raw_bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

/// An injected answer: an S3 error document, or no body at all when the step has no code (what
/// a load balancer in front of the store sends).
std::string injected_answer(const fault_step& step, int n) {
    io::http_response injected;
    injected.status = step.status;
    injected.content_type = "application/xml";
    if (!step.code.empty()) {
        injected.body = fmt::format(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>"
            "<RequestId>proxy-{}</RequestId></Error>",
            step.code, step.message, n);
    }
    return io::serialize(injected, true);
}

/// The upstream's answer re-framed for the client: its headers, with Content-Length for the
/// body we read whole (for HEAD, the upstream's own Content-Length and no body).
std::string reframe(const io::http_client_response& response, bool head_request) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", response.status, response.reason);
    for (const auto& [name, value] : response.headers) {
        bool framing = ::strcasecmp(name.c_str(), "Transfer-Encoding") == 0 ||
                       ::strcasecmp(name.c_str(), "Connection") == 0 ||
                       (!head_request && ::strcasecmp(name.c_str(), "Content-Length") == 0);
        if (!framing) {
            out += fmt::format("{}: {}\r\n", name, value);
        }
    }
    if (!head_request) {
        out += fmt::format("Content-Length: {}\r\n\r\n", response.body.size());
        out += response.body;
    } else {
        out += "\r\n";
    }
    return out;
}

struct upstream_link {
    io::socket_fd fd;
    std::string carry;
};

/// Sends one request upstream and reads its answer; a kept-alive upstream connection found
/// closed is replaced once.
io::task<io::result<io::http_client_response>> forward(fault_proxy* proxy, upstream_link* up, std::string raw,
                                                       bool head_request) {
    auto stop = proxy->stop.get_token();
    for (int round = 0;; ++round) {
        bool fresh = false;
        if (!up->fd) {
            auto connected = co_await io::connect_tcp(proxy->upstream_host, proxy->upstream_port, stop);
            if (!connected) {
                co_return connected.error();
            }
            up->fd = std::move(*connected);
            up->carry.clear();
            fresh = true;
        }
        std::error_code failure;
        auto sent = co_await io::send_all(up->fd.get(), raw_bytes(raw), stop);
        if (sent) {
            auto response = co_await io::read_response(up->fd.get(), up->carry, 64 * 1024 * 1024, head_request, stop);
            if (response) {
                if (!response->keep_alive) {
                    up->fd.reset();
                }
                co_return response;
            }
            failure = response.error();
        } else {
            failure = sent.error();
        }
        up->fd.reset();
        if (fresh || round > 0) {
            co_return failure;
        }
    }
}

io::task<void> serve_proxy_connection(fault_proxy* proxy, io::socket_fd client) {
    auto stop = proxy->stop.get_token();
    std::string carry;
    upstream_link up;
    for (;;) {
        auto head = co_await io::read_request_head(client.get(), carry, stop);
        if (!head || !*head) {
            co_return;
        }
        io::http_request& req = (*head)->first;
        io::http_body_reader& body = *(*head)->second;
        if (::strcasecmp(std::string(req.header("Expect")).c_str(), "100-continue") == 0) {
            constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
            auto sent = co_await io::send_all(client.get(), raw_bytes(go_on), stop);
            if (!sent) {
                co_return;
            }
        }
        for (;;) {
            auto piece = co_await body.next(stop);
            if (!piece) {
                co_return;
            }
            if (piece->empty()) {
                break;
            }
            req.body.append(*piece);
        }
        int n = ++proxy->requests_seen;
        proxy->seen.push_back(req.method + " " + req.target);
        fault_step step = proxy->step_for(n);
        bool head_request = req.method == "HEAD";
        std::string out;
        if (step.kind == fault_kind::error) {
            out = injected_answer(step, n);
        } else if (step.kind == fault_kind::reset) {
            // SO_LINGER 0: close() sends RST, the client's recv fails with ECONNRESET.
            linger hard{1, 0};
            ::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
            co_return;
        } else {
            if (step.kind == fault_kind::corrupt_body && !req.body.empty()) {
                req.body[req.body.size() / 2] ^= 0x01;
            }
            std::vector<std::pair<std::string, std::string>> headers;
            for (auto& [name, value] : req.headers) {
                if (::strcasecmp(name.c_str(), "Expect") != 0) {
                    headers.emplace_back(name, value);
                }
            }
            std::string raw = io::serialize_request(req.method, req.target, headers, req.body);
            auto response = co_await forward(proxy, &up, std::move(raw), head_request);
            if (!response) {
                co_return;
            }
            out = reframe(*response, head_request);
            if (step.kind == fault_kind::hold) {
                auto slept = co_await io::sleep(step.hold, stop);
                if (!slept) {
                    co_return;
                }
            } else if (step.kind == fault_kind::cut_response) {
                out.resize(std::max<size_t>(1, out.size() / 2));
                auto sent = co_await io::send_all(client.get(), raw_bytes(out), stop);
                (void)sent;
                co_return;
            }
        }
        auto sent = co_await io::send_all(client.get(), raw_bytes(out), stop);
        if (!sent) {
            co_return;
        }
    }
}

}  // namespace

moto_server& moto() {
    static moto_server server;
    return server;
}

namespace {

rgw_server read_rgw_env() {
    rgw_server server;
    const char* path = std::getenv("TV_RGW_ENV");
    if (path == nullptr || *path == '\0') {
        server.skip_reason =
            "TV_RGW_ENV is not set (CTest's rgw fixture sets it; by hand: tests/support/rgw_fixture.sh up DIR, "
            "then TV_RGW_ENV=DIR/env)";
        return server;
    }
    std::ifstream in(path);
    if (!in) {
        server.skip_reason = fmt::format("TV_RGW_ENV={} cannot be read: is the gateway up?", path);
        return server;
    }
    std::string endpoint;
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        std::string key = line.substr(0, eq);
        std::string value = line.substr(eq + 1);
        if (key == "endpoint") {
            endpoint = value;
        } else if (key == "access_key") {
            server.access_key = value;
        } else if (key == "secret_key") {
            server.secret_key = value;
        } else if (key == "region") {
            server.region = value;
        }
    }
    constexpr std::string_view scheme = "http://";
    auto colon = endpoint.rfind(':');
    if (!endpoint.starts_with(scheme) || colon == std::string::npos || colon < scheme.size() ||
        server.access_key.empty() || server.secret_key.empty()) {
        server.skip_reason = fmt::format("{} does not name an http:// endpoint and keys", path);
        return server;
    }
    server.host = endpoint.substr(scheme.size(), colon - scheme.size());
    server.port = static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1)));
    if (server.region.empty()) {
        server.region = "us-east-1";
    }
    if (!can_connect(server.port)) {
        server.skip_reason = fmt::format("nothing listens at {} (from {})", endpoint, path);
        return server;
    }
    server.running = true;
    return server;
}

}  // namespace

const rgw_server& rgw() {
    static const rgw_server server = read_rgw_env();
    return server;
}

remote::s3_client_options rgw_options(std::string bucket) {
    const rgw_server& server = rgw();
    remote::s3_client_options options;
    options.endpoint_host = server.host;
    options.endpoint_port = server.port;
    options.region = server.region;
    options.bucket = std::move(bucket);
    options.retry.base_delay = std::chrono::milliseconds(10);
    options.retry.max_delay = std::chrono::milliseconds(100);
    options.retry.throttled_base_delay = std::chrono::milliseconds(10);
    options.retry.throttled_max_delay = std::chrono::milliseconds(100);
    return options;
}

bool moto_server::set_auth(bool on) {
    // reset-auth takes how many requests stay unchecked: 0 turns checking on at once.
    std::string command = fmt::format(
        "curl -s -o /dev/null -w '%{{http_code}}' -X POST -H 'Content-Type: text/plain' --data '{}' "
        "http://127.0.0.1:{}/moto-api/reset-auth",
        on ? "0" : "1000000000", port);
    return shell_output(command) == "200";
}

remote::s3_client_options moto_options(std::string bucket, uint16_t port) {
    remote::s3_client_options options;
    options.endpoint_host = "127.0.0.1";
    options.endpoint_port = port != 0 ? port : moto().port;
    options.bucket = std::move(bucket);
    options.retry.base_delay = std::chrono::milliseconds(10);
    options.retry.max_delay = std::chrono::milliseconds(100);
    options.retry.throttled_base_delay = std::chrono::milliseconds(10);
    options.retry.throttled_max_delay = std::chrono::milliseconds(100);
    return options;
}

remote::aws_credentials rgw_credentials() {
    return remote::aws_credentials{rgw().access_key, rgw().secret_key, ""};
}

remote::s3_client rgw_client(std::string bucket, remote::s3_payload_signing signing) {
    auto options = rgw_options(std::move(bucket));
    options.payload_signing = signing;
    return remote::s3_client(std::move(options), rgw_credentials());
}

std::string unique_bucket(std::string_view stem) {
    static int counter = 0;
    return fmt::format("{}-{}-{:x}{}", stem, ::getpid(), std::time(nullptr), counter++);
}

std::string rgw_aws_cli() {
    if (std::system("command -v aws >/dev/null 2>&1") != 0) {
        return {};
    }
    const rgw_server& server = rgw();
    return fmt::format(
        "env -u AWS_CA_BUNDLE -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null "
        "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID='{}' AWS_SECRET_ACCESS_KEY='{}' "
        "AWS_DEFAULT_REGION='{}' aws --endpoint-url {}",
        server.access_key, server.secret_key, server.region, server.endpoint_url());
}

std::string pattern_bytes(size_t size, unsigned seed) {
    std::string s(size, '\0');
    uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

fault_step fault_proxy::step_for(int n) const {
    if (n >= 1 && static_cast<size_t>(n) <= script.size()) {
        return script[static_cast<size_t>(n) - 1];
    }
    if (n - static_cast<int>(script.size()) <= fail_count) {
        return fault_step::error(fail_status, fail_code);
    }
    return fault_step{};
}

bool fault_proxy::bind() {
    auto l = io::listen_tcp("127.0.0.1", 0);
    if (!l) {
        return false;
    }
    listener = std::move(*l);
    return true;
}

io::task<void> fault_proxy::run() {
    for (;;) {
        auto fd = co_await io::accept(listener.fd.get(), stop.get_token());
        if (!fd) {
            break;
        }
        io::spawn(gate, serve_proxy_connection(this, io::socket_fd(*fd)), "fault proxy connection");
    }
    co_await gate.close();
}

rgw_fault_proxy::rgw_fault_proxy() {
    bound = bind();
    upstream_host = rgw().host;
    upstream_port = rgw().port;
}

remote::s3_client_options rgw_fault_proxy::options(std::string bucket) const {
    auto options = rgw_options(std::move(bucket));
    options.endpoint_host = "127.0.0.1";
    options.endpoint_port = listener.port;
    return options;
}

}  // namespace tv::testing
