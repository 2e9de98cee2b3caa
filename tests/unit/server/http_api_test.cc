// SPDX-License-Identifier: Apache-2.0
// HTTP API routes, called directly: health, run-time config changes and their refusals.
#include "io/log.hh"
#include "server/http_api.hh"
#include "tv_version.hh"

#include <gtest/gtest.h>

using namespace tv;

namespace {

io::http_request request(std::string method, std::string target) {
    io::http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    return r;
}

}  // namespace

TEST(http_api, health) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto response = server::handle_http_request(request("GET", "/api/health"), ctx);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, std::string("{\"status\":\"OK\",\"version\":\"") + TV_VERSION + "\"}\n");
}

TEST(http_api, unknown_path_is_404) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto response = server::handle_http_request(request("GET", "/api/nothing"), ctx);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.body, "{\"status\":\"NOT_FOUND\",\"msg\":\"no such endpoint: /api/nothing\"}\n");
}

TEST(http_api, update_config_changes_a_runtime_key_and_applies_it) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto response = server::handle_http_request(request("POST", "/api/update_config?log_level=warn"), ctx);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(cfg.get<"log_level">(), "warn");
    EXPECT_EQ(log::current_level(), log::level::warn);
    server::handle_http_request(request("POST", "/api/update_config?log_level=info"), ctx);
    EXPECT_EQ(log::current_level(), log::level::info);
}

TEST(http_api, update_config_refusals_change_nothing) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto fixed = server::handle_http_request(request("POST", "/api/update_config?http_port=1234"), ctx);
    EXPECT_EQ(fixed.status, 400);
    EXPECT_NE(fixed.body.find("config key 'http_port' cannot change while the server runs"), std::string::npos)
        << fixed.body;
    EXPECT_EQ(cfg.get<"http_port">(), 8030);

    // One bad pair rejects the whole request: the good pair before it is not applied either.
    auto mixed = server::handle_http_request(request("POST", "/api/update_config?log_level=debug&log_level=loud"), ctx);
    EXPECT_EQ(mixed.status, 400);
    EXPECT_NE(mixed.body.find("invalid value 'loud'"), std::string::npos) << mixed.body;
    EXPECT_EQ(cfg.get<"log_level">(), "info");

    auto unknown = server::handle_http_request(request("POST", "/api/update_config?nope=1"), ctx);
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("unknown config key 'nope'"), std::string::npos);

    auto get = server::handle_http_request(request("GET", "/api/update_config?log_level=debug"), ctx);
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(cfg.get<"log_level">(), "info");
}

TEST(http_api, query_values_are_percent_decoded) {
    server::config cfg;
    server::http_api_context ctx{cfg};
    auto response = server::handle_http_request(request("POST", "/api/update_config?log%5Flevel=err%6Fr"), ctx);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(cfg.get<"log_level">(), "error");
    log::set_level(log::level::info);
}
