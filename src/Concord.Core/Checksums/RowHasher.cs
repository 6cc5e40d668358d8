using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Concord.Core.Checksums;

/// <summary>
/// Hashes a row, a sequence of typed fields, through a canonical encoding so that different rows
/// cannot encode to the same bytes: each field is a type tag, then for variable-length values a
/// 4-byte little-endian length, then the payload. The encoding is prefix-free and decodable, so
/// ("ab", "c"), ("a", "bc"), ("abc") and (bytes "abc") all differ, as do a null and an empty string.
/// </summary>
/// <remarks>
/// Reusable: <see cref="Finish"/> returns the hash and resets for the next row. Not thread-safe.
/// Values without one obvious byte form (floating point, decimals, timestamps with zones) should be
/// put into a canonical text or integer form by the caller before hashing, identically on every
/// replica being compared.
/// </remarks>
public sealed class RowHasher
{
    private const int StackStringBytesMax = 512;

    private readonly XxHash128 _hash = new();

    private enum FieldTag : byte
    {
        Null = 0,
        Bytes = 1,
        Utf8String = 2,
        Int64 = 3,
        Boolean = 4,
    }

    public void AddNull() => AppendTag(FieldTag.Null);

    public void AddBytes(ReadOnlySpan<byte> value)
    {
        AppendTag(FieldTag.Bytes);
        AppendLength(value.Length);
        _hash.Append(value);
    }

    /// <summary>Hashes the UTF-8 bytes of <paramref name="value"/>; null hashes as <see cref="AddNull"/>.</summary>
    public void AddString(string? value)
    {
        if (value is null)
        {
            AddNull();
            return;
        }

        int length = Encoding.UTF8.GetByteCount(value);
        byte[]? rented = null;
        Span<byte> utf8 = length <= StackStringBytesMax ? stackalloc byte[StackStringBytesMax] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            int written = Encoding.UTF8.GetBytes(value, utf8);
            AppendTag(FieldTag.Utf8String);
            AppendLength(written);
            _hash.Append(utf8[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public void AddInt64(long value)
    {
        Span<byte> field = stackalloc byte[1 + sizeof(long)];
        field[0] = (byte)FieldTag.Int64;
        BinaryPrimitives.WriteInt64LittleEndian(field[1..], value);
        _hash.Append(field);
    }

    public void AddBoolean(bool value)
    {
        Span<byte> field = [(byte)FieldTag.Boolean, value ? (byte)1 : (byte)0];
        _hash.Append(field);
    }

    /// <summary>The 128-bit hash of the fields added since the last call; then starts a new row.</summary>
    public UInt128 Finish()
    {
        UInt128 hash = _hash.GetCurrentHashAsUInt128();
        _hash.Reset();
        return hash;
    }

    private void AppendTag(FieldTag tag)
    {
        ReadOnlySpan<byte> field = [(byte)tag];
        _hash.Append(field);
    }

    private void AppendLength(int length)
    {
        Span<byte> prefix = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)length);
        _hash.Append(prefix);
    }
}
