// SPDX-License-Identifier: Apache-2.0
// HTTP API routes, called directly: health, run-time config changes, their refusals, and who
// may make them (Basic auth of root or a db_admin; 401, 403 and 503 otherwise); /metrics, who may
// read it, and its job metrics.
#include "io/log.hh"
#include "server/http_api.hh"
#include "server/http_auth.hh"
#include "server/metrics_page.hh"
#include "storage/catalog.hh"
#include "storage/password.hh"
#include "support/co_test.hh"
#include "tv_version.hh"

#include <gtest/gtest.h>

using namespace tv;

namespace {

constexpr std::string_view client = "127.0.0.1";
constexpr std::string_view root_basic = "Basic cm9vdDpyb290cHc=";  // root:rootpw

io::http_request request(std::string method, std::string target, std::string_view authorization = root_basic) {
    io::http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (!authorization.empty()) {
        r.headers.emplace_back("Authorization", std::string(authorization));
    }
    return r;
}

/// A catalog whose root password is "rootpw", with 'admin' (db_admin, password "a") and
/// 'plain' (no role, password "p").
io::task<std::unique_ptr<storage::catalog>> users_catalog(const std::string& dir) {
    storage::catalog_options options;
    options.root_password = "rootpw";
    auto opened = co_await storage::catalog::open(dir, options);
    if (!opened) {
        throw std::runtime_error(opened.error().message);
    }
    auto cat = std::move(*opened);
    std::vector<std::string> roles(1, std::string(storage::role_db_admin));
    bool made = (co_await cat->create_user("admin", "%", storage::native_password_hash("a"))).has_value() &&
                (co_await cat->grant_roles("admin", "%", roles)).has_value() &&
                (co_await cat->create_user("plain", "%", storage::native_password_hash("p"))).has_value();
    if (!made) {
        throw std::runtime_error("could not create the test users");
    }
    co_return cat;
}

}  // namespace

TEST(http_api, health) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto response = server::handle_http_request(request("GET", "/api/health", ""), ctx, client);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, std::string("{\"status\":\"OK\",\"version\":\"") + TV_VERSION + "\"}\n");
}

TEST(http_api, unknown_path_is_404) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto response = server::handle_http_request(request("GET", "/api/nothing", ""), ctx, client);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.body, "{\"status\":\"NOT_FOUND\",\"msg\":\"no such endpoint: /api/nothing\"}\n");
}

CO_TEST(http_api, update_config_changes_a_runtime_key_and_applies_it) {
    tv::testing::temp_dir dir;
    auto cat = co_await users_catalog(dir.path());
    server::config cfg;
    server::http_api_context ctx{cfg, cat.get()};
    auto response = server::handle_http_request(request("POST", "/api/update_config?log_level=warn"), ctx, client);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(cfg.get<"log_level">(), "warn");
    EXPECT_EQ(log::current_level(), log::level::warn);
    server::handle_http_request(request("POST", "/api/update_config?log_level=info"), ctx, client);
    EXPECT_EQ(log::current_level(), log::level::info);
    CO_ASSERT_OK(co_await cat->close());
}

CO_TEST(http_api, update_config_refusals_change_nothing) {
    tv::testing::temp_dir dir;
    auto cat = co_await users_catalog(dir.path());
    server::config cfg;
    server::http_api_context ctx{cfg, cat.get()};
    auto fixed = server::handle_http_request(request("POST", "/api/update_config?http_port=1234"), ctx, client);
    EXPECT_EQ(fixed.status, 400);
    EXPECT_NE(fixed.body.find("config key 'http_port' cannot change while the server runs"), std::string::npos)
        << fixed.body;
    EXPECT_EQ(cfg.get<"http_port">(), 8030);

    // One bad pair rejects the whole request: the good pair before it is not applied either.
    auto mixed = server::handle_http_request(request("POST", "/api/update_config?log_level=debug&log_level=loud"), ctx, client);
    EXPECT_EQ(mixed.status, 400);
    EXPECT_NE(mixed.body.find("invalid value 'loud'"), std::string::npos) << mixed.body;
    EXPECT_EQ(cfg.get<"log_level">(), "info");

    auto unknown = server::handle_http_request(request("POST", "/api/update_config?nope=1"), ctx, client);
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("unknown config key 'nope'"), std::string::npos);

    auto get = server::handle_http_request(request("GET", "/api/update_config?log_level=debug"), ctx, client);
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(cfg.get<"log_level">(), "info");
    CO_ASSERT_OK(co_await cat->close());
}

CO_TEST(http_api, query_values_are_percent_decoded) {
    tv::testing::temp_dir dir;
    auto cat = co_await users_catalog(dir.path());
    server::config cfg;
    server::http_api_context ctx{cfg, cat.get()};
    auto response = server::handle_http_request(request("POST", "/api/update_config?log%5Flevel=err%6Fr"), ctx, client);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(cfg.get<"log_level">(), "error");
    log::set_level(log::level::info);
    CO_ASSERT_OK(co_await cat->close());
}

CO_TEST(http_api, update_config_needs_root_or_db_admin) {
    tv::testing::temp_dir dir;
    auto cat = co_await users_catalog(dir.path());
    server::config cfg;
    server::http_api_context ctx{cfg, cat.get()};
    auto header_of = [](const io::http_response& r, std::string_view name) {
        for (const auto& [key, value] : r.headers) {
            if (key == name) {
                return value;
            }
        }
        return std::string();
    };
    const std::string target = "/api/update_config?max_upload_speed_kbps=7";
    auto none = server::handle_http_request(request("POST", target, ""), ctx, client);
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(header_of(none, "WWW-Authenticate"), "Basic realm=\"tabletvault\"");
    EXPECT_EQ(none.body,
              "{\"status\":\"UNAUTHORIZED\",\"msg\":\"no valid Basic authorization: use curl -u user:password\"}\n");
    auto garbled = server::handle_http_request(request("POST", target, "Basic !!!"), ctx, client);
    EXPECT_EQ(garbled.status, 401);
    auto wrong = server::handle_http_request(request("POST", target, "Basic cm9vdDpub3Bl"), ctx, client);  // root:nope
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body, "{\"status\":\"UNAUTHORIZED\",\"msg\":\"Access denied for user 'root'@'127.0.0.1' "
                          "(using password: YES)\"}\n");
    auto unknown = server::handle_http_request(request("POST", target, "Basic bm9ib2R5Og=="), ctx, client);  // nobody:
    EXPECT_EQ(unknown.status, 401);
    auto plain = server::handle_http_request(request("POST", target, "Basic cGxhaW46cA=="), ctx, client);  // plain:p
    EXPECT_EQ(plain.status, 403);
    EXPECT_EQ(plain.body, "{\"status\":\"FORBIDDEN\",\"msg\":\"Access denied for user 'plain'@'%': POST "
                          "/api/update_config needs root or the db_admin role\"}\n");
    EXPECT_EQ(cfg.get<"max_upload_speed_kbps">(), 0) << "no refused request changed anything";

    auto admin = server::handle_http_request(request("POST", target, "Basic YWRtaW46YQ=="), ctx, client);  // admin:a
    EXPECT_EQ(admin.status, 200) << admin.body;
    EXPECT_EQ(cfg.get<"max_upload_speed_kbps">(), 7);

    // Before the catalog is open nobody can be checked: 503, nothing changed.
    server::http_api_context starting{cfg};
    auto early = server::handle_http_request(request("POST", "/api/update_config?max_upload_speed_kbps=9"), starting,
                                             client);
    EXPECT_EQ(early.status, 503);
    EXPECT_EQ(cfg.get<"max_upload_speed_kbps">(), 7);
    CO_ASSERT_OK(co_await cat->close());
}

CO_TEST(http_api, metrics_authorization_follows_metrics_require_auth) {
    tv::testing::temp_dir dir;
    auto cat = co_await users_catalog(dir.path());
    server::config cfg;
    EXPECT_FALSE(server::authorize_metrics(request("GET", "/metrics", ""), cfg, cat.get(), client).has_value())
        << "open by default";
    CO_ASSERT_TRUE(!cfg.set("metrics_require_auth", "true").has_value());
    auto none = server::authorize_metrics(request("GET", "/metrics", ""), cfg, cat.get(), client);
    CO_ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->status, 401);
    auto wrong = server::authorize_metrics(request("GET", "/metrics", "Basic cGxhaW46eA=="), cfg, cat.get(), client);
    CO_ASSERT_TRUE(wrong.has_value());
    EXPECT_EQ(wrong->status, 401);
    EXPECT_FALSE(server::authorize_metrics(request("GET", "/metrics", "Basic cGxhaW46cA=="), cfg, cat.get(), client)
                     .has_value())
        << "any user with the right password, no role needed";
    EXPECT_FALSE(server::authorize_metrics(request("GET", "/metrics"), cfg, cat.get(), client).has_value());
    CO_ASSERT_OK(co_await cat->close());
}

CO_TEST(http_api, metrics_endpoint_answers_in_the_text_format_to_whom_it_may) {
    tv::testing::temp_dir dir;
    auto cat = co_await users_catalog(dir.path());
    server::config cfg;
    server::http_api_context ctx{cfg, cat.get()};
    auto open = server::handle_http_request(request("GET", "/metrics", ""), ctx, client);
    EXPECT_EQ(open.status, 200);
    EXPECT_EQ(open.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(open.body.find(std::string("\ntabletvault_build_info{version=\"") + TV_VERSION + "\"} 1\n"),
              std::string::npos)
        << open.body;
    EXPECT_NE(open.body.find("# TYPE tabletvault_s3_requests_total counter\n"), std::string::npos);
    EXPECT_EQ(server::handle_http_request(request("POST", "/metrics", ""), ctx, client).status, 405);

    CO_ASSERT_TRUE(!cfg.set("metrics_require_auth", "true").has_value());
    auto refused = server::handle_http_request(request("GET", "/metrics", ""), ctx, client);
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(refused.body.find("tabletvault_"), std::string::npos) << "no metric to a refused caller";
    auto plain = server::handle_http_request(request("GET", "/metrics", "Basic cGxhaW46cA=="), ctx, client);
    EXPECT_EQ(plain.status, 200) << plain.body;
    CO_ASSERT_OK(co_await cat->close());
}

TEST(metrics_page, jobs_with_hostile_names_stay_one_sample_per_line) {
    jobs::job_view running;
    running.record.id = 12;
    running.record.type = jobs::job_type::backup;
    running.record.db = "sales\\eu";
    running.record.label = "nightly \"1\"\nforged_metric 9";
    running.record.state = jobs::job_state::uploading;
    running.record.bytes_total = 1000;
    running.record.files_total = 4;
    running.bytes_done = 250;
    running.files_done = 1;
    running.current_rate = 125.5;
    running.rate_limit = 1024;
    running.retries = 3;
    running.files_failed = 2;
    jobs::job_view restored;
    restored.record.id = 13;
    restored.record.type = jobs::job_type::restore;
    restored.record.db = "d";
    restored.record.label = "l";
    restored.record.state = jobs::job_state::finished;

    io::metrics::text_writer out;
    server::write_job_metrics(out, {running, restored}, {{"sales\\eu", 1795276800500}});
    const std::string& text = out.text();
    const std::string labels =
        "job_id=\"12\",type=\"backup\",db=\"sales\\\\eu\",label=\"nightly \\\"1\\\"\\nforged_metric 9\"";
    EXPECT_NE(text.find("tabletvault_job_state{" + labels + ",state=\"UPLOADING\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("tabletvault_job_state{job_id=\"13\",type=\"restore\",db=\"d\",label=\"l\","
                        "state=\"FINISHED\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_done_bytes{" + labels + "} 250\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_planned_bytes{" + labels + "} 1000\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_done_files{" + labels + "} 1\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_planned_files{" + labels + "} 4\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_rate_bytes_per_second{" + labels + "} 125.5\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_rate_limit_bytes_per_second{" + labels + "} 1024\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_retries_total{" + labels + "} 3\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_job_failed_files_total{" + labels + "} 2\n"), std::string::npos);
    EXPECT_NE(text.find("tabletvault_last_successful_backup_timestamp_seconds{db=\"sales\\\\eu\"} 1795276800.5\n"),
              std::string::npos);
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end - start);
        EXPECT_TRUE(line.starts_with("# ") || line.starts_with("tabletvault_")) << "a forged line: " << line;
        start = end + 1;
    }
}
