// SPDX-License-Identifier: Apache-2.0
// mysql_native_password hashing and verification with OpenSSL's SHA1.
#include "storage/password.hh"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cctype>
#include <vector>

namespace tv::storage {

namespace {

using digest = std::array<uint8_t, SHA_DIGEST_LENGTH>;

digest sha1(std::span<const uint8_t> data) {
    digest out{};
    SHA1(data.data(), data.size(), out.data());
    return out;
}

bool decode_hash(std::string_view hash, digest& out) {
    if (!is_native_password_hash(hash) || hash.empty()) {
        return false;
    }
    auto nibble = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::toupper(c) - 'A' + 10); };
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<uint8_t>(nibble(hash[1 + 2 * i]) << 4 | nibble(hash[2 + 2 * i]));
    }
    return true;
}

}  // namespace

std::string native_password_hash(std::string_view password) {
    if (password.empty()) {
        return {};
    }
    auto stage1 = sha1({reinterpret_cast<const uint8_t*>(password.data()), password.size()});
    auto stage2 = sha1(stage1);
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "*";
    for (uint8_t b : stage2) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    OPENSSL_cleanse(stage1.data(), stage1.size());
    return out;
}

bool is_native_password_hash(std::string_view hash) {
    if (hash.empty()) {
        return true;
    }
    if (hash.size() != 1 + 2 * SHA_DIGEST_LENGTH || hash[0] != '*') {
        return false;
    }
    for (char c : hash.substr(1)) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

bool check_password(std::string_view password_hash, std::span<const uint8_t> scramble,
                    std::span<const uint8_t> auth_response) {
    if (password_hash.empty()) {
        return auth_response.empty();
    }
    digest stored{};
    if (!decode_hash(password_hash, stored) || auth_response.size() != SHA_DIGEST_LENGTH) {
        return false;
    }
    std::vector<uint8_t> salted(scramble.begin(), scramble.end());
    salted.insert(salted.end(), stored.begin(), stored.end());
    digest mask = sha1(salted);
    digest stage1{};
    for (size_t i = 0; i < stage1.size(); ++i) {
        stage1[i] = auth_response[i] ^ mask[i];
    }
    digest candidate = sha1(stage1);
    OPENSSL_cleanse(stage1.data(), stage1.size());
    return CRYPTO_memcmp(candidate.data(), stored.data(), stored.size()) == 0;
}

bool check_password(const user& u, std::span<const uint8_t> scramble, std::span<const uint8_t> auth_response) {
    return check_password(u.password_hash, scramble, auth_response);
}

}  // namespace tv::storage
