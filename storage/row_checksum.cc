// SPDX-License-Identifier: Apache-2.0
// Row checksums, column at a time: each column's cells are folded into the per-row hashes.
#include "storage/row_checksum.hh"

#include <xxhash.h>

#include <cstring>

#include <vector>

namespace tv::storage {

namespace {

constexpr uint64_t k_row_seed = 0x9e3779b97f4a7c15ULL;
constexpr unsigned char k_null_marker = 0xff;
constexpr unsigned char k_value_marker = 0x01;

template <class T>
void fold_fixed(const column_vector& col, std::vector<uint64_t>& hashes) {
    auto values = col.values<T>();
    for (size_t r = 0; r < hashes.size(); ++r) {
        if (col.is_null(r)) {
            hashes[r] = XXH3_64bits_withSeed(&k_null_marker, 1, hashes[r]);
            continue;
        }
        unsigned char bytes[1 + sizeof(T)];
        bytes[0] = k_value_marker;
        std::memcpy(bytes + 1, &values[r], sizeof(T));
        hashes[r] = XXH3_64bits_withSeed(bytes, sizeof(bytes), hashes[r]);
    }
}

void fold_strings(const column_vector& col, std::vector<uint64_t>& hashes) {
    for (size_t r = 0; r < hashes.size(); ++r) {
        if (col.is_null(r)) {
            hashes[r] = XXH3_64bits_withSeed(&k_null_marker, 1, hashes[r]);
            continue;
        }
        std::string_view s = col.string_at(r);
        uint64_t length = s.size();
        unsigned char head[1 + sizeof(length)];
        head[0] = k_value_marker;
        std::memcpy(head + 1, &length, sizeof(length));
        uint64_t h = XXH3_64bits_withSeed(head, sizeof(head), hashes[r]);
        hashes[r] = XXH3_64bits_withSeed(s.data(), s.size(), h);
    }
}

}  // namespace

void row_checksum::add(const column_batch& batch) {
    std::vector<uint64_t> hashes(batch.num_rows(), k_row_seed);
    for (size_t c = 0; c < batch.num_columns(); ++c) {
        const column_vector& col = batch.column(c);
        switch (col.type()) {
        case physical_type::boolean: fold_fixed<uint8_t>(col, hashes); break;
        case physical_type::int8: fold_fixed<int8_t>(col, hashes); break;
        case physical_type::int16: fold_fixed<int16_t>(col, hashes); break;
        case physical_type::int32: fold_fixed<int32_t>(col, hashes); break;
        case physical_type::int64: fold_fixed<int64_t>(col, hashes); break;
        case physical_type::int128: fold_fixed<int128>(col, hashes); break;
        case physical_type::float32: fold_fixed<float>(col, hashes); break;
        case physical_type::float64: fold_fixed<double>(col, hashes); break;
        case physical_type::bytes: fold_strings(col, hashes); break;
        }
    }
    for (uint64_t h : hashes) {
        _sum += h;
    }
    _rows += hashes.size();
}

}  // namespace tv::storage
