SELECT n.id, n.read_at, n.created_at, n.expires_at, n.delivered_at FROM notifications n WHERE n.audience = 'u:rest-user' ORDER BY n.id DESC LIMIT 50;
