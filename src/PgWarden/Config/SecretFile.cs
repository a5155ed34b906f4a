namespace PgWarden.Config;

/// <summary>
/// Writes a file that holds a secret (a node's YAML with its passwords, ...) readable by its owner only, from the
/// first byte: created 0600 rather than created under the umask and narrowed afterwards.
/// </summary>
public static class SecretFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Write(string path, string content)
    {
        // An existing file keeps its mode on truncation: narrow it before a secret goes in.
        if (File.Exists(path) && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, OwnerOnly);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
