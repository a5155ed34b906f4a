global using OsUser = PgWarden.Lab.OsUsers;
