namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// A callback script for the agents' callbacks: it appends its arguments (action, role, scope) to
/// Dir/&lt;OS user&gt;.log, so a test reads which node ran which callback.
/// </summary>
public sealed record CallbackRecorder(string Dir, string Script)
{
    public static async Task<CallbackRecorder> InstallAsync(AgentCluster cluster)
    {
        var dir = Path.Combine(cluster.Root, "callbacks");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b1_111_111_111); // sticky, writable by every node's OS user
        var script = Path.Combine(cluster.Root, "callback.sh");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\necho \"$@\" >> {dir}/$(id -un).log\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        return new CallbackRecorder(dir, script);
    }
}
