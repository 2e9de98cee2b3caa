// SPDX-License-Identifier: Apache-2.0
// The cluster id file: written once with io::write_file_durably (never replaced), read at start.
#include "storage/cluster_id.hh"

#include "io/durable_file.hh"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace tv::storage {

namespace {

bool valid_id(const std::string& id) {
    return id.size() == 32 &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string new_id() {
    std::random_device random;  // the kernel's entropy: ids of two data dirs must not collide
    std::string id;
    for (int i = 0; i < 4; ++i) {
        id += fmt::format("{:08x}", static_cast<uint32_t>(random()));
    }
    return id;
}

/// The whole (small) file, or nullopt when it does not exist. Read once at start-up.
std::optional<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

io::task<storage_result<std::string>> open_cluster_id(std::string data_dir) {
    std::string path = data_dir + "/cluster_id";
    if (auto existing = read_small_file(path)) {
        std::string id = *existing;
        while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) {
            id.pop_back();
        }
        if (!valid_id(id)) {
            co_return make_error(storage_errc::corrupt_metadata,
                                 fmt::format("{} does not hold a cluster id (32 hex digits)", path));
        }
        co_return id;
    }
    std::string id = new_id();
    std::string text = id + "\n";
    auto written = co_await io::write_file_durably(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
    if (!written) {
        co_return make_error(storage_errc::io_error, io::describe(written.error(), "write " + path));
    }
    co_return id;
}

}  // namespace tv::storage
