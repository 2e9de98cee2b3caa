// SPDX-License-Identifier: Apache-2.0
// Hash and encoding functions under StarRocks' names: murmur_hash3_32 (seed 104729, chained
// over the arguments), xx_hash3_64 (XXH3, seed 0, chained), md5 and hex.
#include "sql/expression/eval_nodes.hh"

#include <openssl/evp.h>
#include <xxhash.h>

#include <cstring>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

uint32_t rotl32(uint32_t x, int r) {
    return (x << r) | (x >> (32 - r));
}

/// MurmurHash3_x86_32, as StarRocks' HashUtil::murmur_hash3_32.
uint32_t murmur3_32(std::string_view data, uint32_t seed) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
    const size_t nblocks = data.size() / 4;
    uint32_t h1 = seed;
    constexpr uint32_t c1 = 0xcc9e2d51;
    constexpr uint32_t c2 = 0x1b873593;
    for (size_t i = 0; i < nblocks; ++i) {
        uint32_t k1 = 0;
        std::memcpy(&k1, bytes + i * 4, 4);
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl32(h1, 13);
        h1 = h1 * 5 + 0xe6546b64;
    }
    const uint8_t* tail = bytes + nblocks * 4;
    uint32_t k1 = 0;
    switch (data.size() & 3) {
    case 3: k1 ^= static_cast<uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: k1 ^= static_cast<uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= static_cast<uint32_t>(data.size());
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6b;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35;
    h1 ^= h1 >> 16;
    return h1;
}

sql_result<expr_ptr> text_args(function_args& args) {
    for (auto& a : args) {
        auto c = convert_if_needed(a, varchar_type());
        if (!c) {
            return c;
        }
        a = std::move(*c);
    }
    return expr_ptr{};
}

bool any_nullable(const function_args& args) {
    return std::any_of(args.begin(), args.end(), [](const expr_ptr& a) { return a->nullable(); });
}

const char* const upper_hex = "0123456789ABCDEF";
const char* const lower_hex = "0123456789abcdef";

void append_hex(std::string_view bytes, const char* digits, std::string& out) {
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
}

template <class T, class F>
sql_result<value_vector> hash_rows(const kernel_args& k, F f) {
    std::vector<const value_vector*> ins;
    for (const auto& a : k.args) {
        ins.push_back(&a);
    }
    std::vector<uint8_t> nulls = vec::union_nulls(ins, k.n, k.self.nullable());
    std::vector<T> out(k.n);
    for (size_t i = 0; i < k.n; ++i) {
        if (nulls.empty() || nulls[i] == 0) {
            out[i] = f(i);
        }
    }
    return result(storage::column_vector::from_values<T>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

template <class F>
sql_result<value_vector> text_rows(const kernel_args& k, F f) {
    vec::string_builder out(k.n, k.self.nullable());
    for (size_t i = 0; i < k.n; ++i) {
        if (k.args[0].is_null(i)) {
            out.append_null();
        } else {
            f(i, out.bytes);
            out.end_row();
        }
    }
    return result(out.finish(), k);
}

}  // namespace

std::optional<sql_result<expr_ptr>> make_hash_function(std::string_view name, function_args& args,
                                                       const std::string& text) {
    if (name == "murmur_hash3_32" || name == "xx_hash3_64") {
        if (args.empty()) {
            return wrong_arg_count(name);
        }
        if (auto c = text_args(args); !c) {
            return c;
        }
        bool nullable = any_nullable(args);
        if (name == "murmur_hash3_32") {
            return make_node(column_type{type_kind::int_}, nullable, std::move(args), [](const kernel_args& k) {
                return hash_rows<int32_t>(k, [&](size_t i) {
                    uint32_t seed = 104729;
                    for (const auto& a : k.args) {
                        seed = murmur3_32(vec::string_at(a, i), seed);
                    }
                    return static_cast<int32_t>(seed);
                });
            }, text);
        }
        return make_node(column_type{type_kind::bigint}, nullable, std::move(args), [](const kernel_args& k) {
            return hash_rows<int64_t>(k, [&](size_t i) {
                uint64_t seed = 0;
                for (const auto& a : k.args) {
                    std::string_view s = vec::string_at(a, i);
                    seed = XXH3_64bits_withSeed(s.data(), s.size(), seed);
                }
                return static_cast<int64_t>(seed);
            });
        }, text);
    }
    if (name == "md5") {
        if (args.size() != 1) {
            return wrong_arg_count(name);
        }
        if (auto c = text_args(args); !c) {
            return c;
        }
        bool nullable = any_nullable(args);
        return make_node(varchar_type(), nullable, std::move(args), [](const kernel_args& k) {
            return text_rows(k, [&](size_t i, std::string& out) {
                std::string_view s = vec::string_at(k.args[0], i);
                unsigned char digest[EVP_MAX_MD_SIZE];
                unsigned int length = 0;
                EVP_Digest(s.data(), s.size(), digest, &length, EVP_md5(), nullptr);
                append_hex(std::string_view(reinterpret_cast<const char*>(digest), length), lower_hex, out);
            });
        }, text);
    }
    if (name == "hex") {
        if (args.size() != 1) {
            return wrong_arg_count(name);
        }
        bool integer = !args[0]->null_literal() && types::is_integral(args[0]->type());
        auto c = convert_if_needed(args[0], integer ? column_type{type_kind::bigint} : varchar_type());
        if (!c) {
            return c;
        }
        std::vector<expr_ptr> in{std::move(*c)};
        bool nullable = in[0]->nullable();
        return make_node(varchar_type(), nullable, std::move(in), [integer](const kernel_args& k) {
            return text_rows(k, [&](size_t i, std::string& out) {
                if (!integer) {
                    append_hex(vec::string_at(k.args[0], i), upper_hex, out);
                    return;
                }
                // HEX(255) is 'FF': the number's two's complement digits, no leading zeros.
                auto v = static_cast<uint64_t>(k.args[0].column().values<int64_t>()[k.args[0].slot(i)]);
                char buf[16];
                int at = 16;
                do {
                    buf[--at] = upper_hex[v & 15];
                    v >>= 4;
                } while (v != 0);
                out.append(buf + at, static_cast<size_t>(16 - at));
            });
        }, text);
    }
    return std::nullopt;
}

}  // namespace tv::sql
