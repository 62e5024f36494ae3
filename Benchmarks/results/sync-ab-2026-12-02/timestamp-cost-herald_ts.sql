SELECT n.id, herald_ts(n.read_at), herald_ts(n.created_at), herald_ts(n.expires_at), herald_ts(n.delivered_at) FROM notifications n WHERE n.audience = 'u:rest-user' ORDER BY n.id DESC LIMIT 50;
