// SPDX-License-Identifier: Apache-2.0
// moto_server start-up (a GoogleTest environment) and the fault proxy.
#include "unit/remote/s3_test_support.hh"

#include "io/http_codec.hh"
#include "io/loop.hh"
#include "io/ops.hh"
#include "io/sync_wait.hh"
#include "remote/http_client.hh"
#include "remote/s3_xml.hh"
#include "remote/sigv4.hh"

#include <fmt/format.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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
    remote::sigv4_request req;
    req.method = "POST";
    req.path = "/";
    std::string host = fmt::format("127.0.0.1:{}", port);
    req.headers.push_back(remote::http_header{"Host", host});
    req.headers.push_back(remote::http_header{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
    req.payload_hash = remote::sha256_hex(form);
    remote::aws_credentials setup{"setup", "setup", ""};  // auth is still off
    auto sig = signer.sign(req, setup, std::chrono::system_clock::now());
    remote::http_client_request out;
    out.method = "POST";
    out.target = "/";
    for (const auto& h : req.headers) {
        out.headers.emplace_back(h.name, h.value);
    }
    for (const auto& h : sig.headers) {
        out.headers.emplace_back(h.name, h.value);
    }
    out.body = std::as_bytes(std::span(form.data(), form.size()));
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

io::task<void> serve_proxy_connection(fault_proxy* proxy, io::socket_fd client) {
    std::string carry;
    io::socket_fd upstream;
    std::string upstream_carry;
    for (;;) {
        auto request = co_await io::read_request(client.get(), carry, 64 * 1024 * 1024, proxy->stop.get_token());
        if (!request || !*request) {
            co_return;
        }
        auto& req = **request;
        ++proxy->requests_seen;
        std::string out;
        if (proxy->requests_seen <= proxy->fail_count) {
            io::http_response injected;
            injected.status = proxy->fail_status;
            injected.content_type = "application/xml";
            injected.body = fmt::format(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>injected by the test "
                "proxy</Message><RequestId>proxy-{}</RequestId></Error>",
                proxy->fail_code, proxy->requests_seen);
            out = io::serialize(injected, true);
        } else {
            if (!upstream) {
                auto connected = co_await io::connect_tcp("127.0.0.1", proxy->upstream_port);
                if (!connected) {
                    co_return;
                }
                upstream = std::move(*connected);
            }
            std::vector<std::pair<std::string, std::string>> headers;
            for (auto& [name, value] : req.headers) {
                if (::strcasecmp(name.c_str(), "Expect") != 0) {
                    headers.emplace_back(name, value);
                }
            }
            std::string raw = io::serialize_request(req.method, req.target, headers, req.body);
            auto sent = co_await io::send_all(upstream.get(), std::as_bytes(std::span(raw.data(), raw.size())));
            if (!sent) {
                co_return;
            }
            auto response = co_await io::read_response(upstream.get(), upstream_carry, 64 * 1024 * 1024,
                                                       req.method == "HEAD");
            if (!response) {
                co_return;
            }
            out = fmt::format("HTTP/1.1 {} {}\r\n", response->status, response->reason);
            for (auto& [name, value] : response->headers) {
                if (::strcasecmp(name.c_str(), "Transfer-Encoding") != 0 &&
                    ::strcasecmp(name.c_str(), "Content-Length") != 0 && ::strcasecmp(name.c_str(), "Connection") != 0) {
                    out += fmt::format("{}: {}\r\n", name, value);
                }
            }
            out += fmt::format("Content-Length: {}\r\n\r\n", response->body.size());
            out += response->body;
        }
        auto sent = co_await io::send_all(client.get(), std::as_bytes(std::span(out.data(), out.size())));
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
    return options;
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

}  // namespace tv::testing
