return await PgWarden.Cli.Run(args);
