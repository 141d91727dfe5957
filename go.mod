module github.com/lynnet/lyn

go 1.26
