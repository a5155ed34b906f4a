using System.Text.Json.Nodes;
using PgWarden.Dcs;

namespace PgWarden.Tests.Ha;

/// <summary>Member keys for decision tests: nodeN runs at 127.0.0.1N as a replica.</summary>
internal static class TestMembers
{
    public static Member Running(string name, bool clonefrom = false) => new(name, new MemberData
    {
        ConnUrl = $"postgres://127.0.0.{10 + name[^1] - '0'}:5432/postgres",
        ApiUrl = $"http://127.0.0.{10 + name[^1] - '0'}:8008/patroni",
        State = "running",
        Role = "replica",
        Tags = clonefrom ? new JsonObject { ["clonefrom"] = true } : null,
    }, 1, 1);
}
